using System.Linq;
using Qtaml.Generators.Lowering;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Emit.Kernels;

/// <summary>Max and average pooling, over planes or over channels-last values a vector of channels at a time.</summary>
internal static class PoolKernels
{
    public static void Write(SourceWriter w, KernelContext k, Step step, PoolLayer p)
    {
        ValueInfo input = k.Value(step.Inputs[0]).Image();
        // A 3-D pooling reads planes (AssignLayouts keeps channels-last for 1-D and 2-D windows only).
        if (input.Layout == Layout.ChannelsLast && !p.IsVolumetric) WriteChannelsLast(w, step, p, input.ChannelSlots);
        else WritePlanes(w, step, p);
    }

    private static string Describe(PoolLayer p) =>
        Escape.XmlDoc(p.Name) + ": " + p.Operator + " " + Shape.Format(p.InputShape) + " -> " + Shape.Format(p.OutputShape) + ", window " + p.Window;

    private static void WritePlanes(SourceWriter w, Step step, PoolLayer p)
    {
        bool max = p.Kind == PoolKind.Max, volume = p.IsVolumetric;
        Window k = p.Window;
        w.Line("/// <summary>" + Describe(p) + ".</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> x, Span<float> y)"))
        using (w.Block("for (int c = 0; c < " + p.Channels + "; c++)"))
        using (volume ? w.Block("for (int oz = 0; oz < " + p.OutD + "; oz++)") : null)
        using (w.Block("for (int oy = 0; oy < " + p.OutH + "; oy++)"))
        using (w.Block("for (int ox = 0; ox < " + p.OutW + "; ox++)"))
        {
            w.Line(max ? "float best = float.NegativeInfinity;" : "float sum = 0f;");
            if (!max && !p.CountIncludePad) w.Line("int count = 0;");
            using (volume ? w.Block("for (int kz = 0; kz < " + k.KernelD + "; kz++)") : null)
            using (w.Block("for (int ky = 0; ky < " + k.KernelH + "; ky++)"))
            {
                if (volume)
                {
                    w.Line("int iz = oz * " + k.StrideD + " - " + k.PadFront + " + " + Tap("kz", k.DilationD) + ";");
                    w.Line("if ((uint)iz >= " + p.InD + "u) continue;");
                }
                w.Line("int iy = oy * " + k.StrideH + " - " + k.PadTop + " + " + Tap("ky", k.DilationH) + ";");
                w.Line("if ((uint)iy >= " + p.InH + "u) continue;");
                using (w.Block("for (int kx = 0; kx < " + k.KernelW + "; kx++)"))
                {
                    w.Line("int ix = ox * " + k.StrideW + " - " + k.PadLeft + " + " + Tap("kx", k.DilationW) + ";");
                    w.Line("if ((uint)ix >= " + p.InW + "u) continue;");
                    w.Line("float v = x[(" + (volume ? "(c * " + p.InD + " + iz)" : "c") + " * " + p.InH + " + iy) * " + p.InW + " + ix];");
                    w.Line(max ? "if (v > best) best = v;" : p.CountIncludePad ? "sum += v;" : "sum += v; count++;");
                }
            }
            string value = max ? "best" : p.CountIncludePad ? "sum / " + k.Size + "f" : "count == 0 ? 0f : sum / count";
            w.Line("y[(" + (volume ? "(c * " + p.OutD + " + oz)" : "c") + " * " + p.OutH + " + oy) * " + p.OutW + " + ox] = " + value + ";");
        }
        w.Line();
    }

    /// <summary>
    /// Pooling over channels-last input: each window position contributes whole vectors of channels, so one
    /// maximum (or sum) covers a vector of channels. Positions outside the input are skipped (max) or count as
    /// zeros only where the model says so (average with count_include_pad).
    /// </summary>
    private static void WriteChannelsLast(SourceWriter w, Step step, PoolLayer p, int slots)
    {
        Window k = p.Window;
        bool inside = k.PadTop == 0 && k.PadLeft == 0 && (p.OutH - 1) * k.StrideH + k.ExtentH <= p.InH && (p.OutW - 1) * k.StrideW + k.ExtentW <= p.InW;
        w.Line("/// <summary>" + Describe(p) + "; channels-last with " + slots + " channel slots.</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> x, Span<float> y)"))
        {
            w.Line(KernelContext.LengthCheck(("x", (long)p.InH * p.InW * slots), ("y", (long)p.OutH * p.OutW * slots)));
            w.Line("ref float source = ref MemoryMarshal.GetReference(x);");
            w.Line("ref float target = ref MemoryMarshal.GetReference(y);");
            VectorWidth.Dispatch(w, v =>
            {
                // Channels in chunks of at most MaxPoolVectors vectors, each chunk's running maxima (or sums) in
                // registers: unrolled over every channel (480 channels are 120 Vector128s) they spill, and the method
                // grows with the channel count.
                int vectors = slots / v.Lanes, chunk = System.Math.Min(vectors, MaxPoolVectors), whole = vectors / chunk * chunk;
                using (w.Block("for (int oy = 0; oy < " + p.OutH + "; oy++)"))
                using (w.Block("for (int ox = 0; ox < " + p.OutW + "; ox++)"))
                {
                    if (whole == chunk)
                        using (w.Block("// channels 0 to " + (chunk * v.Lanes - 1)))
                            WriteChannelChunk(w, v, p, slots, chunk, "0", inside);
                    else
                        using (w.Block("for (nuint channel = 0; channel < " + whole * v.Lanes + "; channel += " + chunk * v.Lanes + ")"))
                            WriteChannelChunk(w, v, p, slots, chunk, "channel", inside);
                    if (whole < vectors)
                        using (w.Block("// the last " + (vectors - whole) * v.Lanes + " channel(s)"))
                            WriteChannelChunk(w, v, p, slots, vectors - whole, (whole * v.Lanes).ToString(System.Globalization.CultureInfo.InvariantCulture), inside);
                }
            }, wide: slots % VectorWidth.V512.Lanes == 0);
        }
        w.Line();
    }

    /// <summary>The most channel vectors one window pass keeps in registers.</summary>
    private const int MaxPoolVectors = 8;

    /// <summary>
    /// One window pass over <paramref name="count"/> vectors of channels from <paramref name="channel"/> (a loop
    /// variable or a constant) at output position (oy, ox).
    /// </summary>
    private static void WriteChannelChunk(SourceWriter w, VectorWidth v, PoolLayer p, int slots, int count, string channel, bool inside)
    {
        bool max = p.Kind == PoolKind.Max;
        Window k = p.Window;
        string start = max ? v.Splat("float.NegativeInfinity") : v.Zero;
        w.Line(string.Join(" ", Enumerable.Range(0, count).Select(g => v.Floats + " r" + g + " = " + start + ";")));
        if (!max && !p.CountIncludePad && !inside) w.Line("int count = 0;");
        using (w.Block("for (int ky = 0; ky < " + k.KernelH + "; ky++)"))
        {
            w.Line("int iy = oy * " + k.StrideH + (k.PadTop > 0 ? " - " + k.PadTop : "") + " + " + Tap("ky", k.DilationH) + ";");
            if (!inside) w.Line("if ((uint)iy >= " + p.InH + "u) continue;");
            using (w.Block("for (int kx = 0; kx < " + k.KernelW + "; kx++)"))
            {
                w.Line("int ix = ox * " + k.StrideW + (k.PadLeft > 0 ? " - " + k.PadLeft : "") + " + " + Tap("kx", k.DilationW) + ";");
                if (!inside) w.Line("if ((uint)ix >= " + p.InW + "u) continue;");
                w.Line("nuint at = (nuint)((iy * " + p.InW + " + ix) * " + slots + ")" + (channel == "0" ? "" : " + " + channel) + ";");
                for (int g = 0; g < count; g++)
                {
                    string load = v.Load("source", IndexExpression.Plus("at", g * v.Lanes));
                    w.Line("r" + g + " = " + (max ? v.Type + ".Max(r" + g + ", " + load + ");" : "r" + g + " + " + load + ";"));
                }
                if (!max && !p.CountIncludePad && !inside) w.Line("count++;");
            }
        }
        string divisor = max ? "" : p.CountIncludePad || inside ? " / " + Literals.Float(k.Size) : " / " + v.Splat("(float)Math.Max(count, 1)");
        string position = "(nuint)((oy * " + p.OutW + " + ox) * " + slots + ")" + (channel == "0" ? "" : " + " + channel);
        for (int g = 0; g < count; g++)
            w.Line(v.Store("r" + g + divisor, "target", IndexExpression.Plus(position, g * v.Lanes)));
    }

    /// <summary>The offset of window tap <paramref name="index"/> in the input: the tap times the dilation.</summary>
    private static string Tap(string index, int dilation) => dilation == 1 ? index : index + " * " + dilation;
}
