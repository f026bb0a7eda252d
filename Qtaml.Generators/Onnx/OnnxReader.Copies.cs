using System;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// Operators that copy a computed value through per-axis index tables (<see cref="AxisTables"/>): Slice, Pad,
/// Tile and Split with constant parameters, over any axes.
/// </summary>
internal static partial class OnnxReader
{
    /// <summary>Input <paramref name="index"/> as constant integers, or empty where it is absent; a computed one is a diagnostic.</summary>
    private static long[]? ConstantInts(Reading r, NodeProto node, string name, int index, string what)
    {
        if (node.Input.Count <= index || node.Input[index].Length == 0) return null;
        if (r.IsValue(node.Input[index])) throw r.Network.Mismatch(name, node.OpType + "'s " + what + " are computed at run time; Qtaml needs them as constants");
        return r.Context.Longs(node.Input[index], name);
    }

    private static int[] OnnxDims(Reading r, NodeProto node) => r.OnnxShape(node.Input[0])!.Select(d => (int)d).ToArray();

    private static Func<string, Exception> Bad(Reading r, string name, string op) => what => Malformed(r, name, op, what);

    internal static int ReadSlice(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        int value = r.Data(node, name);
        int[] dims = OnnxDims(r, node);
        int[][] tables = r.Opset >= 10
            ? AxisTables.Slice(dims, ConstantInts(r, node, name, 1, "starts") ?? throw Bad(r, name, "Slice")("has no starts"),
                ConstantInts(r, node, name, 2, "ends") ?? throw Bad(r, name, "Slice")("has no ends"), ConstantInts(r, node, name, 3, "axes"), ConstantInts(r, node, name, 4, "steps"), Bad(r, name, "Slice"))
            : AxisTables.Slice(dims, a.Ints("starts"), a.Ints("ends"), a.Has("axes") ? a.Ints("axes") : null, null, Bad(r, name, "Slice"));
        return r.Network.AxisMap(name, "Slice", tables);
    }

    internal static int ReadPad(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        int value = r.Data(node, name);
        int[] dims = OnnxDims(r, node);
        string mode = a.String("mode", "constant");
        long[] pads;
        float fill;
        if (r.Opset < 11)
        {
            pads = a.Ints("pads");
            fill = a.Float("value", 0f);
        }
        else
        {
            pads = ConstantInts(r, node, name, 1, "pads") ?? throw Bad(r, name, "Pad")("has no pads");
            fill = 0f;
            if (node.Input.Count > 2 && node.Input[2].Length > 0)
            {
                if (r.IsValue(node.Input[2])) throw r.Network.Mismatch(name, "Pad's constant_value is computed at run time; Qtaml needs it as a constant");
                float[] values = r.Context.Tensor(node.Input[2], name).Values;
                if (values.Length != 1) throw Bad(r, name, "Pad")("has a constant_value that is not one value");
                fill = values[0];
            }
            long[]? axes = ConstantInts(r, node, name, 3, "axes");
            if (axes is not null)
            {
                // Pads for the listed axes only: spread them over every axis, 0 for the rest.
                var full = new long[2 * dims.Length];
                if (pads.Length != 2 * axes.Length) throw Bad(r, name, "Pad")("has " + pads.Length + " pads for " + axes.Length + " axes");
                for (int i = 0; i < axes.Length; i++)
                {
                    long axis = axes[i] < 0 ? axes[i] + dims.Length : axes[i];
                    if (axis < 0 || axis >= dims.Length) throw Bad(r, name, "Pad")("has axis " + axes[i] + " outside its rank-" + dims.Length + " input");
                    full[axis] = pads[i];
                    full[dims.Length + axis] = pads[axes.Length + i];
                }
                pads = full;
            }
        }
        int[][] tables = AxisTables.Pad(dims, pads, mode, Bad(r, name, "Pad"));
        return r.Network.AxisMap(name, "Pad", tables, fill);
    }

    internal static int ReadTile(Reading r, NodeProto node, string name)
    {
        int value = r.Data(node, name);
        long[] repeats = ConstantInts(r, node, name, 1, "repeats") ?? throw Bad(r, name, "Tile")("has no repeats");
        int[][] tables = AxisTables.Tile(OnnxDims(r, node), repeats, Bad(r, name, "Tile"));
        return r.Network.AxisMap(name, "Tile", tables);
    }

    /// <summary>Split: every output is its own copy of a range of the axis; the sizes come from the split attribute or input, or an even split.</summary>
    internal static int ReadSplit(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        int value = r.Data(node, name);
        int[] dims = OnnxDims(r, node);
        long axis = a.Int("axis", 0);
        long positive = axis < 0 ? axis + dims.Length : axis;
        if (positive < 0 || positive >= dims.Length) throw Bad(r, name, "Split")("has axis " + axis + " outside its rank-" + dims.Length + " input");
        long[] sizes = (r.Opset >= 13 ? ConstantInts(r, node, name, 1, "split sizes") : a.Has("split") ? a.Ints("split") : null)
            ?? AxisTables.EvenSplit(dims[positive], a.Has("num_outputs") ? (int)Math.Min(int.MaxValue, Math.Max(1, a.Int("num_outputs", 1))) : node.Output.Count, Bad(r, name, "Split"));
        if (sizes.Length != node.Output.Count) throw Bad(r, name, "Split")("makes " + sizes.Length + " parts for " + node.Output.Count + " outputs");
        int[][][] parts = AxisTables.Split(dims, axis, sizes, Bad(r, name, "Split"));
        int first = -1;
        for (int k = 0; k < parts.Length; k++)
        {
            r.Network.Current = value;
            int part = r.Network.AxisMap(name + (k == 0 ? "" : " (output " + (k + 1) + ")"), "Split", parts[k]);
            if (k == 0) first = part;
            else if (node.Output[k].Length > 0) r.Values[node.Output[k]] = part;
        }
        return first;
    }

}
