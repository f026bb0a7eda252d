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

    /// <summary>
    /// Pooling over planes: each output from its window, taps outside the input skipped. A 2-D window of stride 1 and
    /// no dilation along the rows (a smoothing pool, or the channel window LRN is lowered to) computes the columns
    /// whose whole window is inside the input a vector of outputs at a time, each tap one unaligned load, in the
    /// order the scalar loop adds them (the same bits); the columns at the edges one at a time.
    /// </summary>
    private static void WritePlanes(SourceWriter w, Step step, PoolLayer p)
    {
        bool max = p.Kind == PoolKind.Max, volume = p.IsVolumetric;
        Window k = p.Window;
        // The columns whose window lies inside the input: [lo, hi).
        int lo = System.Math.Min(k.PadLeft, p.OutW), hi = System.Math.Max(lo, System.Math.Min(p.OutW, p.InW - k.KernelW + 1 + k.PadLeft));
        bool vectorized = !volume && k.StrideW == 1 && k.DilationW == 1 && hi - lo >= VectorWidth.V128.Lanes;
        if (max && !volume && !vectorized && p.InW >= VectorWidth.V128.Lanes && p.InW <= KernelContext.StackFloats)
        {
            WritePlanesMaxByRows(w, step, p);
            return;
        }
        w.Line("/// <summary>" + Describe(p) + (vectorized ? "; columns " + lo + " to " + (hi - 1) + " a vector at a time" : "") + ".</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> x, Span<float> y)"))
        {
            if (vectorized)
            {
                w.Line(KernelContext.LengthCheck(("x", (long)p.Channels * p.InH * p.InW), ("y", (long)p.Channels * p.OutH * p.OutW)));
                w.Line("ref float source = ref MemoryMarshal.GetReference(x);");
                w.Line("ref float target = ref MemoryMarshal.GetReference(y);");
            }
            using (w.Block("for (int c = 0; c < " + p.Channels + "; c++)"))
            using (volume ? w.Block("for (int oz = 0; oz < " + p.OutD + "; oz++)") : null)
            using (w.Block("for (int oy = 0; oy < " + p.OutH + "; oy++)"))
            {
                if (!vectorized)
                    using (w.Block("for (int ox = 0; ox < " + p.OutW + "; ox++)"))
                        WritePlanesOutput(w, p);
                else
                    WritePlanesRow(w, p, lo, hi);
            }
        }
        w.Line();
    }

    /// <summary>
    /// A 2-D max pool over planes that the column vectors above do not cover (a stride or dilation along the rows, as
    /// the stride-2 pool after an LRN): a maximum is the same whichever way its window is walked, so each output row
    /// first reduces its window's rows inside the input, a vector of input columns at a time, into one row of column
    /// maxima, then each output takes the maximum of its window's columns of that row. Both use the scalar loop's rule
    /// (a value replaces the best so far only if greater, so a NaN never does), with KernelH + KernelW comparisons per
    /// output's column share instead of KernelH · KernelW bounds-tested ones.
    /// </summary>
    private static void WritePlanesMaxByRows(SourceWriter w, Step step, PoolLayer p)
    {
        Window k = p.Window;
        w.Line("/// <summary>" + Describe(p) + "; each output row's window rows reduced a vector of columns at a time, then its columns.</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> x, Span<float> y)"))
        {
            w.Line(KernelContext.LengthCheck(("x", (long)p.Channels * p.InH * p.InW), ("y", (long)p.Channels * p.OutH * p.OutW)));
            w.Line("ref float source = ref MemoryMarshal.GetReference(x);");
            w.Line("// The largest value of each input column over the current output row's window rows.");
            w.Line("Span<float> columns = stackalloc float[" + p.InW + "];");
            w.Line("ref float column = ref MemoryMarshal.GetReference(columns);");
            using (w.Block("for (int c = 0; c < " + p.Channels + "; c++)"))
            using (w.Block("for (int oy = 0; oy < " + p.OutH + "; oy++)"))
            {
                w.Line("columns.Fill(float.NegativeInfinity);");
                using (w.Block("for (int ky = 0; ky < " + k.KernelH + "; ky++)"))
                {
                    w.Line("int iy = oy * " + k.StrideH + " - " + k.PadTop + " + " + Tap("ky", k.DilationH) + ";");
                    w.Line("if ((uint)iy >= " + p.InH + "u) continue;");
                    w.Line("nuint row = (nuint)((c * " + p.InH + " + iy) * " + p.InW + ");");
                    VectorWidth.Dispatch(w, v => WriteColumnMaxima(w, v, p.InW), wide: p.InW >= VectorWidth.V512.Lanes);
                }
                using (w.Block("for (int ox = 0; ox < " + p.OutW + "; ox++)"))
                {
                    w.Line("float best = float.NegativeInfinity;");
                    using (w.Block("for (int kx = 0; kx < " + k.KernelW + "; kx++)"))
                    {
                        w.Line("int ix = ox * " + k.StrideW + " - " + k.PadLeft + " + " + Tap("kx", k.DilationW) + ";");
                        w.Line("if ((uint)ix >= " + p.InW + "u) continue;");
                        w.Line("float v = columns[ix];");
                        w.Line("if (v > best) best = v;");
                    }
                    w.Line("y[(c * " + p.OutH + " + oy) * " + p.OutW + " + ox] = best;");
                }
            }
        }
        w.Line();
    }

    /// <summary>
    /// columns[ix] = the greater of itself and input row <c>row</c>'s column ix, for every column a vector at a time; where
    /// the columns are not whole vectors, the last vector ends at the last column (taking a maximum twice changes nothing).
    /// </summary>
    private static void WriteColumnMaxima(SourceWriter w, VectorWidth v, int width)
    {
        if (width < v.Lanes)
        {
            using (w.Block("for (int ix = 0; ix < " + width + "; ix++)"))
            {
                w.Line("float v = Unsafe.Add(ref source, row + (nuint)ix);");
                w.Line("if (v > columns[ix]) columns[ix] = v;");
            }
            return;
        }
        void Vector(string ix)
        {
            w.Line(v.Floats + " value = " + v.Load("source", "row + " + ix) + ", best = " + v.Load("column", ix) + ";");
            w.Line(v.Store(v.Type + ".ConditionalSelect(" + v.Type + ".GreaterThan(value, best), value, best)", "column", ix));
        }
        int whole = width / v.Lanes * v.Lanes;
        using (w.Block("for (nuint ix = 0; ix < " + whole + "; ix += " + v.Lanes + ")"))
            Vector("ix");
        if (whole < width)
            using (w.Block("// the last " + (width - whole) + " column(s): a vector ending at column " + (width - 1)))
                Vector("(nuint)" + (width - v.Lanes));
    }

    /// <summary>Row (c, oy) of a pool whose columns [<paramref name="lo"/>, <paramref name="hi"/>) have their window inside the input.</summary>
    private static void WritePlanesRow(SourceWriter w, PoolLayer p, int lo, int hi)
    {
        bool max = p.Kind == PoolKind.Max;
        Window k = p.Window;
        if (lo > 0)
            using (w.Block("for (int ox = 0; ox < " + lo + "; ox++)"))
                WritePlanesOutput(w, p);
        if (!max && !p.CountIncludePad)
        {
            // The window's rows inside the input: with every column inside too, the count of its taps.
            w.Line("int rows = 0;");
            using (w.Block("for (int ky = 0; ky < " + k.KernelH + "; ky++)"))
                w.Line("if ((uint)(oy * " + k.StrideH + " - " + k.PadTop + " + " + Tap("ky", k.DilationH) + ") < " + p.InH + "u) rows++;");
        }
        VectorWidth.Dispatch(w, v => WritePlanesColumns(w, v, p, lo, hi));
        if (hi < p.OutW)
            using (w.Block("for (int ox = " + hi + "; ox < " + p.OutW + "; ox++)"))
                WritePlanesOutput(w, p);
    }

    /// <summary>One output (c, oy, ox) of a pool over planes, every tap bounds-tested.</summary>
    private static void WritePlanesOutput(SourceWriter w, PoolLayer p)
    {
        bool max = p.Kind == PoolKind.Max, volume = p.IsVolumetric;
        Window k = p.Window;
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

    /// <summary>
    /// Columns [<paramref name="lo"/>, <paramref name="hi"/>) of row (c, oy), a vector of outputs at a time; where they
    /// are not whole vectors, the last vector ends at the last column (overlapping the one before: the same values).
    /// </summary>
    private static void WritePlanesColumns(SourceWriter w, VectorWidth v, PoolLayer p, int lo, int hi)
    {
        bool max = p.Kind == PoolKind.Max;
        Window k = p.Window;
        if (hi - lo < v.Lanes)
        {
            using (w.Block("for (int ox = " + lo + "; ox < " + hi + "; ox++)"))
                WritePlanesOutput(w, p);
            return;
        }
        int whole = lo + (hi - lo) / v.Lanes * v.Lanes;
        void Vector(string ox)
        {
            w.Line(v.Floats + " r = " + (max ? v.Splat("float.NegativeInfinity") : v.Zero) + ";");
            using (w.Block("for (int ky = 0; ky < " + k.KernelH + "; ky++)"))
            {
                w.Line("int iy = oy * " + k.StrideH + " - " + k.PadTop + " + " + Tap("ky", k.DilationH) + ";");
                w.Line("if ((uint)iy >= " + p.InH + "u) continue;");
                w.Line("nuint row = (nuint)((c * " + p.InH + " + iy) * " + p.InW + " + " + ox + (k.PadLeft > 0 ? " - " + k.PadLeft : "") + ");");
                for (int kx = 0; kx < k.KernelW; kx++)
                {
                    string load = v.Load("source", IndexExpression.Plus("row", kx));
                    w.Line("r = " + (max ? v.Type + ".Max(r, " + load + ");" : "r + " + load + ";"));
                }
            }
            string value = max ? "r" : p.CountIncludePad ? "r / " + Literals.Float(k.Size) : "r / " + v.Splat("(float)(Math.Max(rows, 1) * " + k.KernelW + ")");
            w.Line(v.Store(value, "target", "(nuint)((c * " + p.OutH + " + oy) * " + p.OutW + " + " + ox + ")"));
        }
        using (w.Block("for (int ox = " + lo + "; ox < " + whole + "; ox += " + v.Lanes + ")"))
            Vector("ox");
        if (whole < hi)
            using (w.Block("// the last " + (hi - whole) + " column(s): a vector ending at column " + (hi - 1)))
                Vector((hi - v.Lanes).ToString(System.Globalization.CultureInfo.InvariantCulture));
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
