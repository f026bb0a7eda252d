using System;
using System.Linq;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// The per-axis index tables of Slice, Pad, Tile and Split (see <c>AxisMapLayer</c>): for each axis, which input
/// index every output index reads, −1 for a padding fill. Pure arithmetic over ONNX shapes, shared by build-time
/// folding and the run-time copy. Every failure is reported through <c>bad</c>, with the reason.
/// </summary>
internal static class AxisTables
{
    /// <summary>The most output indices one axis may have (a Pad or Tile cannot claim more).</summary>
    public const long MaxAxisLength = 1 << 20;

    public static int[] Identity(int size) => Enumerable.Range(0, size).ToArray();

    private static int Axis(long axis, int rank, Func<string, Exception> bad)
    {
        long positive = axis < 0 ? axis + rank : axis;
        if (positive < 0 || positive >= rank) throw bad("has axis " + axis + " outside its rank-" + rank + " input");
        return (int)positive;
    }

    /// <summary>Slice: on each listed axis, from start (clamped as ONNX does) by step while before end.</summary>
    public static int[][] Slice(int[] dims, long[] starts, long[] ends, long[]? axes, long[]? steps, Func<string, Exception> bad)
    {
        int rank = dims.Length;
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length) throw bad("has starts, ends, axes and steps of different lengths");
        int[][] tables = dims.Select(Identity).ToArray();
        var seen = new bool[rank];
        for (int i = 0; i < starts.Length; i++)
        {
            int axis = Axis(axes[i], rank, bad);
            if (seen[axis]) throw bad("slices axis " + axis + " twice");
            seen[axis] = true;
            long size = dims[axis], step = steps[i];
            if (step == 0) throw bad("has a step of 0");
            long Clamp(long v, long low, long high) => Math.Max(low, Math.Min(high, v < 0 ? v + size : v));
            long first = step > 0 ? Clamp(starts[i], 0, size) : Clamp(starts[i], -1, size - 1);
            long last = step > 0 ? Clamp(ends[i], 0, size) : Clamp(ends[i], -1, size - 1);
            long count = Math.Max(0, step > 0 ? (last - first + step - 1) / step : (first - last - step - 1) / -step);
            tables[axis] = Enumerable.Range(0, (int)count).Select(k => (int)(first + k * step)).ToArray();
        }
        return tables;
    }

    /// <summary>
    /// Pad by pads = [begin per axis..., end per axis...] (negative crops), in mode constant (the fill), reflect (the
    /// mirror image without the edge), edge (the edge repeated) or wrap (the other end).
    /// </summary>
    public static int[][] Pad(int[] dims, long[] pads, string mode, Func<string, Exception> bad)
    {
        int rank = dims.Length;
        if (pads.Length != 2 * rank) throw bad("has " + pads.Length + " pads for a rank-" + rank + " input; it needs " + 2 * rank);
        var tables = new int[rank][];
        for (int d = 0; d < rank; d++)
        {
            long size = dims[d], before = pads[d], length = size + before + pads[rank + d];
            if (Math.Abs(before) > MaxAxisLength || Math.Abs(pads[rank + d]) > MaxAxisLength || length < 0 || length > MaxAxisLength) throw bad("pads axis " + d + " to " + length + " values");
            if (mode is "reflect" && size == 1 && length != size) throw bad("reflects an axis of size 1");
            tables[d] = new int[length];
            for (long i = 0; i < length; i++)
            {
                long source = i - before;
                tables[d][i] = source >= 0 && source < size ? (int)source : mode switch
                {
                    "constant" => -1,
                    "edge" => (int)Math.Max(0, Math.Min(size - 1, source)),
                    "wrap" => (int)(((source % size) + size) % size),
                    "reflect" => Reflect(source, size),
                    _ => throw bad("has mode '" + mode + "'; ONNX defines constant, reflect, edge and wrap"),
                };
            }
        }
        return tables;
    }

    private static int Reflect(long source, long size)
    {
        long period = 2 * (size - 1), m = ((source % period) + period) % period;
        return (int)(m < size ? m : period - m);
    }

    /// <summary>Tile: every axis repeated its number of times.</summary>
    public static int[][] Tile(int[] dims, long[] repeats, Func<string, Exception> bad)
    {
        if (repeats.Length != dims.Length) throw bad("has " + repeats.Length + " repeats for a rank-" + dims.Length + " input");
        return dims.Select((size, d) =>
        {
            long length = size * repeats[d];
            if (repeats[d] < 0 || length > MaxAxisLength) throw bad("repeats axis " + d + " " + repeats[d] + " times");
            return Enumerable.Range(0, (int)length).Select(i => i % size).ToArray();
        }).ToArray();
    }

    /// <summary>Split: output k takes <paramref name="sizes"/>[k] indices of the axis, after those of the outputs before it.</summary>
    public static int[][][] Split(int[] dims, long axisAttribute, long[] sizes, Func<string, Exception> bad)
    {
        int axis = Axis(axisAttribute, dims.Length, bad);
        if (sizes.Any(s => s < 0) || sizes.Sum() != dims[axis]) throw bad("splits an axis of " + dims[axis] + " into [" + string.Join(", ", sizes) + "]");
        long start = 0;
        return sizes.Select(size =>
        {
            int[][] tables = dims.Select(Identity).ToArray();
            tables[axis] = Enumerable.Range((int)start, (int)size).ToArray();
            start += size;
            return tables;
        }).ToArray();
    }

    /// <summary>The sizes of an even split into <paramref name="outputs"/> parts; from opset 18 the last may be smaller.</summary>
    public static long[] EvenSplit(int size, int outputs, Func<string, Exception> bad)
    {
        long part = (size + outputs - 1) / outputs;
        var sizes = Enumerable.Range(0, outputs).Select(k => Math.Max(0, Math.Min(part, size - k * part))).ToArray();
        if (sizes.Any(s => s == 0)) throw bad("splits an axis of " + size + " into " + outputs + " parts");
        return sizes;
    }

    /// <summary>A constant tensor read through the tables (build-time folding); −1 reads <paramref name="fill"/>.</summary>
    public static double[] Apply(double[] values, int[] dims, int[][] tables, double fill)
    {
        int rank = dims.Length;
        var strides = new long[rank];
        long stride = 1;
        for (int d = rank - 1; d >= 0; d--) { strides[d] = stride; stride *= dims[d]; }
        long count = tables.Aggregate(1L, (p, t) => p * t.Length);
        var result = new double[count];
        var index = new int[rank];
        for (long o = 0; o < count; o++)
        {
            long source = 0;
            bool filled = false;
            for (int d = 0; d < rank; d++)
            {
                int s = tables[d][index[d]];
                if (s < 0) filled = true;
                else source += s * strides[d];
            }
            result[o] = filled ? fill : values[source];
            for (int d = rank - 1; d >= 0 && ++index[d] == tables[d].Length; d--) index[d] = 0;
        }
        return result;
    }
}
