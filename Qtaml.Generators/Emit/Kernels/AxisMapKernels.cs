using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Lowering;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Emit.Kernels;

/// <summary>
/// Slice, Pad, Tile and Split as one copy: nested loops over the output's axes, each axis's input index read from a
/// small baked table (−1 where constant padding reads the fill value). A last axis that reads a contiguous run of
/// the input copies the run at once.
/// </summary>
internal static class AxisMapKernels
{
    public static void Write(SourceWriter w, KernelContext k, Step step, AxisMapLayer m)
    {
        if (k.Value(step.Output).Layout == Layout.ChannelsLast)
        {
            WriteChannelsLast(w, k, step, m);
            return;
        }
        int[] input = m.InputShape, output = m.OutputShape;
        int rank = output.Length, last = rank - 1;
        int[] strides = Shape.BroadcastStrides(input, input);
        for (int d = 0; d < rank; d++) if (input[d] == 1) strides[d] = 0;
        bool contiguous = !m.Sources[last].Contains(-1) && m.Sources[last].Select((s, i) => s - i).Distinct().Count() == 1;
        w.Line("/// <summary>" + Escape.XmlDoc(m.Name) + ": " + m.Operator + " " + Shape.Format(input) + " -> " + Shape.Format(output) + (m.Fills ? ", padding with " + Literals.Float(m.Fill) : "") + ".</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> x, Span<float> y)"))
        {
            w.Line(KernelContext.LengthCheck(("x", m.InputLength), ("y", m.OutputLength)));
            for (int d = 0; d < rank; d++)
                if (!contiguous || d < last) w.Line("ReadOnlySpan<int> axis" + d + " = " + step.Method + "_Axis" + d + ";");
            w.Line("int o = 0;");
            var blocks = new List<IDisposable>();
            int loops = contiguous ? last : rank;
            for (int d = 0; d < loops; d++)
            {
                blocks.Add(w.Block("for (int i" + d + " = 0; i" + d + " < " + output[d] + "; i" + d + "++)"));
                w.Line("int s" + d + " = axis" + d + "[i" + d + "];");
            }
            string offset = string.Join(" + ", Enumerable.Range(0, loops).Where(d => strides[d] != 0).Select(d => "s" + d + " * " + strides[d]).DefaultIfEmpty("0"));
            string outside = string.Join(" | ", Enumerable.Range(0, loops).Select(d => "s" + d));
            if (contiguous)
            {
                int run = output[last], first = m.Sources[last][0];
                string copy = "x.Slice(" + offset + (first != 0 ? " + " + first : "") + ", " + run + ").CopyTo(y.Slice(o, " + run + "));";
                if (m.Fills && loops > 0) w.Line("if ((" + outside + ") < 0) y.Slice(o, " + run + ").Fill(" + Literals.Float(m.Fill) + "); else " + copy);
                else w.Line(copy);
                w.Line("o += " + run + ";");
            }
            else
            {
                w.Line(m.Fills ? "y[o++] = (" + outside + ") < 0 ? " + Literals.Float(m.Fill) + " : x[" + offset + "];" : "y[o++] = x[" + offset + "];");
            }
            for (int i = blocks.Count - 1; i >= 0; i--) blocks[i].Dispose();
        }
        for (int d = 0; d < rank; d++)
            if (!contiguous || d < last)
                w.Line("private static ReadOnlySpan<int> " + step.Method + "_Axis" + d + " => new int[] { " + string.Join(", ", m.Sources[d]) + " };");
        w.Line();
    }

    /// <summary>
    /// A map of positions only (<see cref="AssignLayouts.MapsPositionsOnly"/>) on a channels-last image: nested loops
    /// over the output's positions, each a copy of the channel vector (its padding slots too) of the input position
    /// the axes' tables pick, or the fill value in the channels and zeros in the padding. Where the last axis reads
    /// a contiguous run, the run's vectors are copied at once.
    /// </summary>
    private static void WriteChannelsLast(SourceWriter w, KernelContext k, Step step, AxisMapLayer m)
    {
        int[] input = m.InputShape, output = m.OutputShape;
        int rank = output.Length, last = rank - 1, channels = input[1], slots = k.Value(step.Output).ChannelSlots;
        // Strides in floats of the input's stored [image][position][slot] along each axis but the channels.
        var strides = new long[rank];
        strides[last] = slots;
        for (int d = last - 1; d >= 2; d--) strides[d] = strides[d + 1] * input[d + 1];
        strides[0] = strides[2] * input[2];
        bool contiguous = !m.Sources[last].Contains(-1) && m.Sources[last].Select((s, i) => s - i).Distinct().Count() == 1;
        // The position axes whose index comes from a table: all of them, but a contiguous last axis, copied as a run.
        int[] axes = Enumerable.Range(2, (contiguous ? last : rank) - 2).ToArray();
        long inLength = strides[0] * input[0], outLength = (long)output[0] * output.Skip(2).Aggregate(1L, (a, d) => a * d) * slots;
        w.Line("/// <summary>" + Escape.XmlDoc(m.Name) + ": " + m.Operator + " " + Shape.Format(input) + " -> " + Shape.Format(output) + (m.Fills ? ", padding with " + Literals.Float(m.Fill) : "")
            + "; channels-last with " + slots + " slots, a channel vector per position.</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> x, Span<float> y)"))
        {
            w.Line(KernelContext.LengthCheck(("x", inLength), ("y", outLength)));
            foreach (int d in axes) w.Line("ReadOnlySpan<int> axis" + d + " = " + step.Method + "_Axis" + d + ";");
            w.Line("int o = 0;");
            var blocks = new List<IDisposable>();
            if (output[0] > 1) blocks.Add(w.Block("for (int i0 = 0; i0 < " + output[0] + "; i0++)"));
            foreach (int d in axes)
            {
                blocks.Add(w.Block("for (int i" + d + " = 0; i" + d + " < " + output[d] + "; i" + d + "++)"));
                w.Line("int s" + d + " = axis" + d + "[i" + d + "];");
            }
            string offset = string.Join(" + ", (output[0] > 1 ? new[] { "i0 * " + strides[0] } : Array.Empty<string>())
                .Concat(axes.Select(d => "s" + d + " * " + strides[d])).DefaultIfEmpty("0"));
            int run = contiguous ? output[last] * slots : slots;
            string copy = "x.Slice(" + offset + (contiguous && m.Sources[last][0] != 0 ? " + " + (long)m.Sources[last][0] * slots : "") + ", " + run + ").CopyTo(y.Slice(o, " + run + "));";
            if (m.Fills && axes.Length > 0)
            {
                using (w.Block("if ((" + string.Join(" | ", axes.Select(d => "s" + d)) + ") < 0)"))
                {
                    // The fill value in the channels, zeros in the padding slots, at each position of the run.
                    using (w.Block("for (int p = 0; p < " + run / slots + "; p++)"))
                    {
                        w.Line("y.Slice(o + p * " + slots + ", " + channels + ").Fill(" + Literals.Float(m.Fill) + ");");
                        if (slots > channels) w.Line("y.Slice(o + p * " + slots + " + " + channels + ", " + (slots - channels) + ").Clear();");
                    }
                }
                w.Line("else " + copy);
            }
            else w.Line(copy);
            w.Line("o += " + run + ";");
            for (int i = blocks.Count - 1; i >= 0; i--) blocks[i].Dispose();
        }
        foreach (int d in axes)
            w.Line("private static ReadOnlySpan<int> " + step.Method + "_Axis" + d + " => new int[] { " + string.Join(", ", m.Sources[d]) + " };");
        w.Line();
    }

    /// <summary>Instance normalization: per channel, the mean, then the variance of the deviations (two passes), then the affine map.</summary>
    public static void WriteInstanceNorm(SourceWriter w, KernelContext k, Step step, InstanceNormLayer n)
    {
        w.Line("/// <summary>" + Escape.XmlDoc(n.Name) + ": instance normalization of " + (n.Images > 1 ? n.Images + " images of " : "") + n.Channels + " channels of " + n.Plane + " values, epsilon " + Literals.Float(n.Epsilon) + ".</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> x, Span<float> y)"))
        {
            w.Line(KernelContext.LengthCheck(("x", n.InputLength), ("y", n.InputLength)));
            w.Line("ReadOnlySpan<float> scale = " + step.Method + "_Scale, bias = " + step.Method + "_Bias;");
            using (w.Block("for (int p = 0; p < " + n.Planes + "; p++)"))
            {
                w.Line("int c = " + (n.Images > 1 ? "p % " + n.Channels : "p") + ";");
                w.Line("ReadOnlySpan<float> plane = x.Slice(p * " + n.Plane + ", " + n.Plane + ");");
                w.Line("Span<float> result = y.Slice(p * " + n.Plane + ", " + n.Plane + ");");
                w.Line("float sum = 0f;");
                w.Line("for (int i = 0; i < " + n.Plane + "; i++) sum += plane[i];");
                w.Line("float mean = sum / " + n.Plane + "f, squares = 0f;");
                w.Line("for (int i = 0; i < " + n.Plane + "; i++) { float d = plane[i] - mean; squares += d * d; }");
                w.Line("float gain = scale[c] / MathF.Sqrt(squares / " + n.Plane + "f + " + Literals.Float(n.Epsilon) + ");");
                w.Line("for (int i = 0; i < " + n.Plane + "; i++) result[i] = (plane[i] - mean) * gain + bias[c];");
            }
        }
        w.Line("private static ReadOnlySpan<float> " + step.Method + "_Scale => " + k.Data.FloatSpan(n.Scale) + ";");
        w.Line("private static ReadOnlySpan<float> " + step.Method + "_Bias => " + k.Data.FloatSpan(n.Bias) + ";");
        w.Line();
    }
}
