using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Qtaml.Generators.Lowering;
using Qtaml.Generators.Network;
using Qtaml.Generators.Planning;

namespace Qtaml.Generators.Emit.Kernels;

/// <summary>Dense layers: one row (a classifier head) as dot products, many rows (token-wise projections) from a table.</summary>
internal static class DenseKernels
{
    /// <summary>
    /// The quantized one-row kernel: codes, dequantization, channel scales and biases are parameters, so the body
    /// depends only on the layer's shape and fused ReLU, and layers of one shape share it (<see cref="SharedKernels"/>).
    /// </summary>
    public static void WriteQuantizedRow(SourceWriter w, KernelContext k, DenseLayer layer, string method, bool relu)
    {
        int n = layer.InputCount;
        bool vectorized = k.Bits <= 8 && n >= 16;
        using (w.Kernel("private static void " + method + "(ReadOnlySpan<byte> w, " + KernelContext.DequantizationParameters + ", ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, ReadOnlySpan<float> x, Span<float> y)"))
        {
            w.Line(k.CodeSpan());
            w.Line(KernelContext.LengthCheck(("w", (long)n * layer.Outputs * k.Plan.BytesPerCode), ("x", n), ("y", layer.Outputs), ("scale", layer.Outputs), ("bias", layer.Outputs)));
            w.Line("// Mean correction of an unprotected layer shifts every read code by codeOffset (p01): each output gains that times the input's sum.");
            w.Line("float inputSum = 0f;");
            w.Line("if (codeOffset != 0f) for (int i = 0; i < " + n + "; i++) inputSum += x[i];");
            if (!vectorized)
            {
                WriteScalarRows(w, k, layer, relu, "0");
                return;
            }
            w.Line("ref sbyte codes = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, sbyte>(w));");
            w.Line("ref float input = ref MemoryMarshal.GetReference(x);");
            using (w.Block("if (Avx512F.IsSupported)"))
                WriteRowGroups(w, k, layer, relu, CodeVectors.Avx512);
            using (w.Block("else if (Avx2.IsSupported)"))
                WriteRowGroups(w, k, layer, relu, CodeVectors.Avx2);
            using (w.Block("else"))
                WriteRowGroups(w, k, layer, relu, CodeVectors.Portable);
        }
    }

    /// <summary>How a kernel turns 16 stored codes into floats.</summary>
    private enum CodeVectors
    {
        /// <summary>One Vector512: sign-extended by one instruction (vpmovsxbd) and converted by one more.</summary>
        Avx512,

        /// <summary>Two Vector256: the lower and upper 8 codes each sign-extended by one instruction.</summary>
        Avx2,

        /// <summary>Four Vector128 by two portable widenings (SSE4.1 pmovsx, NEON sxtl): every CPU.</summary>
        Portable,
    }

    /// <summary>
    /// Four outputs at a time, so each 16 inputs are loaded once for four rows of codes; each row's multiply-adds
    /// go to independent accumulators (one Vector512, two Vector256 or four Vector128 per row). The inputs past the
    /// last whole 16 and the outputs past the last whole 4 take the scalar path.
    /// </summary>
    private static void WriteRowGroups(SourceWriter w, KernelContext k, DenseLayer layer, bool relu, CodeVectors kind)
    {
        int n = layer.InputCount, whole = n / 16 * 16;
        int parts = kind switch { CodeVectors.Avx512 => 1, CodeVectors.Avx2 => 2, _ => 4 };
        string v = kind switch { CodeVectors.Avx512 => "Vector512", CodeVectors.Avx2 => "Vector256", _ => "Vector128" };
        int lanes = 16 / parts;
        string load(string at) => k.CodeVector("Vector128.LoadUnsafe(ref codes, " + at + ")");
        // The statements that leave the 16 codes at `at` as floats c0..c{parts-1}.
        void Codes(string at)
        {
            switch (kind)
            {
                case CodeVectors.Avx512:
                    w.Line("Vector512<float> c0 = Avx512F.ConvertToVector512Single(" + k.SignExtended("Vector512", "Avx512F.ConvertToVector512Int32(" + load(at) + ")") + ");");
                    break;
                case CodeVectors.Avx2:
                    w.Line("Vector128<sbyte> sixteen = " + load(at) + ";");
                    w.Line("Vector256<float> c0 = Vector256.ConvertToSingle(" + k.SignExtended("Vector256", "Avx2.ConvertToVector256Int32(sixteen)") + ");");
                    w.Line("Vector256<float> c1 = Vector256.ConvertToSingle(" + k.SignExtended("Vector256", "Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(sixteen, 8))") + ");");
                    break;
                default:
                    w.Line("(Vector128<short> low, Vector128<short> high) = Vector128.Widen(" + load(at) + ");");
                    w.Line("(Vector128<int> i0, Vector128<int> i1) = Vector128.Widen(low);");
                    w.Line("(Vector128<int> i2, Vector128<int> i3) = Vector128.Widen(high);");
                    w.Line(string.Join(" ", Enumerable.Range(0, 4).Select(p => "Vector128<float> c" + p + " = Vector128.ConvertToSingle(" + k.SignExtended("Vector128", "i" + p) + ");")));
                    break;
            }
        }
        string Inputs() => string.Join(" ", Enumerable.Range(0, parts).Select(p => v + "<float> x" + p + " = " + v + ".LoadUnsafe(ref input, i" + (p == 0 ? "" : " + " + (p * lanes)) + ");"));
        string Sum(string r) => v + ".Sum(" + string.Join(" + ", Enumerable.Range(0, parts).Select(p => "acc" + r + "_" + p)) + ")";
        void Rows(int rows, string first)
        {
            w.Line(string.Join(" ", Enumerable.Range(0, rows).Select(r => "nuint row" + r + " = (nuint)((" + first + " + " + r + ") * " + n + ");")));
            for (int r = 0; r < rows; r++) w.Line(string.Join(" ", Enumerable.Range(0, parts).Select(p => v + "<float> acc" + r + "_" + p + " = default;")));
            using (w.Block("for (nuint i = 0; i < " + whole + "; i += 16)"))
            {
                w.Line(Inputs());
                for (int r = 0; r < rows; r++)
                {
                    w.Line("{");
                    Codes("row" + r + " + i");
                    for (int p = 0; p < parts; p++) w.Line("  acc" + r + "_" + p + " = " + VectorWidth.MultiplyAdd("c" + p, "x" + p, "acc" + r + "_" + p) + ";");
                    w.Line("}");
                }
            }
            for (int r = 0; r < rows; r++)
            {
                w.Line("float sum" + r + " = " + Sum(r.ToString(CultureInfo.InvariantCulture)) + ";");
                if (whole < n) w.Line("for (int i = " + whole + "; i < " + n + "; i++) sum" + r + " += " + k.CodeRead("(" + first + " + " + r + ") * " + n + " + i") + " * x[i];");
                w.Line("y[" + first + " + " + r + "] = " + Output("sum" + r, first + " + " + r, relu) + ";");
            }
        }
        w.Line("int o = 0;");
        using (w.Block("for (; o <= " + (layer.Outputs - 4) + "; o += 4)")) Rows(4, "o");
        if (layer.Outputs % 4 != 0)
            using (w.Block("for (; o < " + layer.Outputs + "; o++)")) Rows(1, "o");
    }

    private static void WriteScalarRows(SourceWriter w, KernelContext k, DenseLayer layer, bool relu, string from)
    {
        using (w.Block("for (int o = " + from + "; o < " + layer.Outputs + "; o++)"))
        {
            w.Line("float sum = 0f;");
            w.Line("for (int i = 0; i < " + layer.InputCount + "; i++) sum += " + k.CodeRead("o * " + layer.InputCount + " + i") + " * x[i];");
            w.Line("y[o] = " + Output("sum", "o", relu) + ";");
        }
    }

    /// <summary>An output from its sum of codes times inputs: scaled, mean-corrected with the input's sum, biased, clamped where a ReLU is fused in.</summary>
    private static string Output(string sum, string o, bool relu)
    {
        string value = "scale[" + o + "] * scaleFactor * (" + sum + " + codeOffset * inputSum) + bias[" + o + "]";
        return relu ? "MathF.Max(0f, " + value + ")" : value;
    }

    /// <summary>
    /// The unquantized one-row kernel: float weights [out][in] baked; four outputs at a time share each input
    /// vector, each with its own accumulator; the inputs past the last whole vector one at a time.
    /// </summary>
    public static void WriteFloatRow(SourceWriter w, KernelContext k, DenseLayer layer, Step step)
    {
        string method = step.Method;
        int n = layer.InputCount;
        w.Line("/// <summary>" + Escape.XmlDoc(layer.Name) + ": " + layer.Operator + ", " + n + " inputs to " + layer.Outputs + " outputs" + (step.FusedRelu ? ", with the ReLU after it fused in" : "") + ".</summary>");
        using (w.Kernel("private static void " + method + "(ReadOnlySpan<float> x, Span<float> y)"))
        {
            w.Line(KernelContext.LengthCheck(("x", n), ("y", layer.Outputs)));
            w.Line("ref float weights = ref MemoryMarshal.GetReference(" + method + "_Weights);");
            w.Line("ref float input = ref MemoryMarshal.GetReference(x);");
            w.Line("ReadOnlySpan<float> bias = " + method + "_Bias;");
            VectorWidth.Dispatch(w, v =>
            {
                int whole = n / v.Lanes * v.Lanes;
                void Rows(int rows)
                {
                    w.Line(string.Join(" ", Enumerable.Range(0, rows).Select(r => "nuint row" + r + " = (nuint)((o + " + r + ") * " + n + ");")));
                    w.Line(string.Join(" ", Enumerable.Range(0, rows).Select(r => v.Floats + " acc" + r + " = default;")));
                    if (whole > 0)
                    {
                        using (w.Block("for (nuint i = 0; i < " + whole + "; i += " + v.Lanes + ")"))
                        {
                            w.Line(v.Floats + " inputs = " + v.Load("input", "i") + ";");
                            for (int r = 0; r < rows; r++) w.Line("acc" + r + " = " + VectorWidth.MultiplyAdd(v.Load("weights", "row" + r + " + i"), "inputs", "acc" + r) + ";");
                        }
                    }
                    for (int r = 0; r < rows; r++)
                    {
                        w.Line("float sum" + r + " = " + v.Type + ".Sum(acc" + r + ");");
                        if (whole < n) w.Line("for (nuint i = " + whole + "; i < " + n + "; i++) sum" + r + " += Unsafe.Add(ref weights, row" + r + " + i) * Unsafe.Add(ref input, i);");
                        string value = "sum" + r + " + bias[o + " + r + "]";
                        w.Line("y[o + " + r + "] = " + (step.FusedRelu ? "MathF.Max(0f, " + value + ")" : value) + ";");
                    }
                }
                w.Line("int o = 0;");
                using (w.Block("for (; o <= " + (layer.Outputs - 4) + "; o += 4)")) Rows(4);
                if (layer.Outputs % 4 != 0)
                    using (w.Block("for (; o < " + layer.Outputs + "; o++)")) Rows(1);
            }, wide: true);
        }
        w.Line();
        w.Line("private static ReadOnlySpan<float> " + method + "_Weights => " + k.Data.FloatSpan(layer.Weights) + ";");
        w.Line("private static ReadOnlySpan<float> " + method + "_Bias => " + k.Data.FloatSpan(layer.Bias) + ";");
        w.Line();
    }

    /// <summary>Output vectors a row-batched dense layer keeps in registers at a time, per row.</summary>
    private const int OutputVectors = 6;

    /// <summary>
    /// A dense layer applied to every row of a [rows, inputs] value (a transformer projection), from an
    /// [input][output] float table padded to whole vectors of 8: converted from the codes (stored input-major) once
    /// per call, or baked in an unquantized build. Each row's input values are broadcast and multiply-added into
    /// output vectors held in registers, two rows at a time sharing every weight load; scale and bias are applied
    /// to whole vectors as they are stored.
    /// </summary>
    public static void WriteRows(SourceWriter w, KernelContext k, DenseLayer d, Step step)
    {
        string method = step.Method;
        QuantizedLayer? q = k.IsQuantized ? k.Quantized(d) : null;
        int padded = AssignLayouts.Slots(d.Outputs);
        long table = (long)d.InputCount * padded;
        w.Line("/// <summary>" + Escape.XmlDoc(d.Name) + ": " + d.Operator + ", " + d.InputCount + " inputs to " + d.Outputs + " outputs for each of " + d.Rows + " rows" + (step.FusedRelu ? ", ReLU fused in" : "") + ", from one [input][output] table.</summary>");
        string signature = k.IsQuantized ? "(ReadOnlySpan<byte> w, " + KernelContext.DequantizationParameters + ", ReadOnlySpan<float> x, Span<float> y" + KernelContext.SplitParameter(step) + ")" : "(ReadOnlySpan<float> x, Span<float> y" + KernelContext.SplitParameter(step) + ")";
        using (w.Kernel("private static void " + method + signature))
        {
            w.Line(KernelContext.LengthCheck(k.IsQuantized ? new[] { ("w", (long)d.Weights.Length * k.Plan.BytesPerCode), ("x", (long)d.InputLength), ("y", (long)d.OutputLength) } : new[] { ("x", (long)d.InputLength), ("y", (long)d.OutputLength) }));
            if (q is not null)
                k.WriteWeightTable(w, step, "input-major", "[input][output]", d.InputCount, d.Outputs, padded);
            else
            {
                w.Line("ref float weights = ref MemoryMarshal.GetReference(" + method + "_Table);");
            }
            w.Line("ref float input = ref MemoryMarshal.GetReference(x);");
            w.Line("ref float result = ref MemoryMarshal.GetReference(y);");
            if (step.Splits)
            {
                // The rows are computed by _Multiply: all of them here on one thread, or by part on a pool's threads.
                k.WriteSplitMultiply(w, step, "input", null, Escape.XmlDoc(d.Name) + ": the rows of part <c>part</c> of <c>parts</c> (all of them: part 0 of 1).");
                if (padded != d.Outputs) w.Line("Span<float> y = MemoryMarshal.CreateSpan(ref result, " + d.OutputLength + ");");
            }
            else
                w.Line("int part = 0, parts = 1;");
            if (q is not null) w.Line("ref float scales = ref MemoryMarshal.GetReference(" + method + "_Scale);");
            w.Line("ref float biases = ref MemoryMarshal.GetReference(" + method + "_Bias);");
            if (padded != d.Outputs) w.Line("Span<float> sums = stackalloc float[" + (2 * padded) + "];");
            // Rows two at a time sharing every weight load, and a last one alone: part of parts takes its share of the pairs.
            // The inputs and rows are parameters, so layers with the same outputs share the method; the outputs' blocking
            // is written out per layer.
            int pairs = d.Rows / 2, units = pairs + d.Rows % 2;
            var parameters = new List<(string, string)> { ("ref float", "weights") };
            if (q is not null) parameters.Add(("ref float", "scales"));
            parameters.AddRange(new[] { ("ref float", "biases"), ("ref float", "input"), ("ref float", "result") });
            if (padded != d.Outputs) parameters.AddRange(new[] { ("Span<float>", "y"), ("Span<float>", "sums") });
            parameters.AddRange(new[] { ("int", "part"), ("int", "parts") });
            VectorWidth.DispatchToMethods(w, k, method, Escape.XmlDoc(d.Name) + ": the rows", parameters.ToArray(), (w, v, a) =>
            {
                string unitCount = a.Of("units", units);
                w.Line("int firstPair = part * " + unitCount + " / parts, endPair = (part + 1) * " + unitCount + " / parts;");
                w.Line("int r = 2 * firstPair;");
                using (w.Block("for (; r + 1 < 2 * " + (d.Rows % 2 == 1 ? "(endPair < " + a.Of("pairs", pairs) + " ? endPair : " + a.Of("pairs", pairs) + ")" : "endPair") + "; r += 2)"))
                    WriteRowsBlock(w, a, d, step, q, v, padded, 2);
                if (d.Rows % 2 == 1)
                    using (w.Block("if (endPair == " + unitCount + ")"))
                    {
                        w.Line("// the last row");
                        w.Line("r = " + a.Of("lastRow", d.Rows - 1) + ";");
                        WriteRowsBlock(w, a, d, step, q, v, padded, 1);
                    }
            }, wide: padded % VectorWidth.V512.Lanes == 0, shapeParameters: true, shapeType: "int");
        }
        w.Line();
        if (q is not null) w.Line("private static ReadOnlySpan<float> " + method + "_Scale => " + k.Data.FloatSpan(KernelContext.Pad(q.ChannelScales, padded)) + ";");
        else w.Line("private static ReadOnlySpan<float> " + method + "_Table => " + k.Data.FloatSpan(KernelContext.PaddedRuns(d.Weights, d.InputCount, d.Outputs, padded, i => WeightOrder.StoredPosition(Kernel.DenseRows, d, i))) + ";");
        w.Line("private static ReadOnlySpan<float> " + method + "_Bias => " + k.Data.FloatSpan(KernelContext.Pad(d.Bias, padded)) + ";");
        w.Line();
    }

    private static void WriteRowsBlock(SourceWriter w, ShapeArguments a, DenseLayer d, Step step, QuantizedLayer? q, VectorWidth v, int padded, int rows)
    {
        // Registers hold one vector whatever its width: up to 8 accumulators for one row, 6 per row for two.
        int vectors = padded / v.Lanes, perGroup = rows == 1 ? 8 : OutputVectors;
        for (int r = 0; r < rows; r++)
        {
            w.Line("nuint row" + r + " = (nuint)((r + " + r + ") * " + a.Of("inputs", d.InputCount) + "), resultRow" + r + " = (nuint)((r + " + r + ") * " + d.Outputs + ");");
        }
        // Groups of whole output vectors loop (the kernel's size does not grow with the outputs); the rest, at most a
        // group or two and any vector the row ends in the middle of, is written out.
        int looped = d.Outputs / v.Lanes / perGroup;
        int start = 0;
        if (looped >= 2)
        {
            int step0 = perGroup * v.Lanes;
            using (w.Block("for (nuint o = 0; o < " + looped * step0 + "; o += " + step0 + ")"))
                WriteRowsGroup(w, a, d, step, q, v, padded, rows, "o", 0, perGroup, "outputs o to o + " + step0);
            start = looped * perGroup;
        }
        for (; start < vectors; start += perGroup)
        {
            int count = Math.Min(perGroup, vectors - start);
            WriteRowsGroup(w, a, d, step, q, v, padded, rows, "", start * v.Lanes, count, "outputs " + (start * v.Lanes) + " to " + Math.Min(d.Outputs, (start + count) * v.Lanes));
        }
        int whole = d.Outputs / v.Lanes * v.Lanes;
        if (whole < d.Outputs)
            for (int r = 0; r < rows; r++)
                w.Line("for (int o = " + whole + "; o < " + d.Outputs + "; o++) y[(r + " + r + ") * " + d.Outputs + " + o] = sums[" + (r * padded) + " + o];");
    }

    /// <summary>
    /// One group of <paramref name="count"/> output vectors for <paramref name="rows"/> rows, starting at output
    /// <paramref name="origin"/> (a loop variable, or "") plus <paramref name="first0"/>: accumulators in registers
    /// through the inputs, then scaled, biased and stored.
    /// </summary>
    private static void WriteRowsGroup(SourceWriter w, ShapeArguments a, DenseLayer d, Step step, QuantizedLayer? q, VectorWidth v, int padded, int rows, string origin, int first0, int count, string title)
    {
        using (w.Block("// " + title + ": " + count + " vector(s) x " + rows + " row(s) in registers"))
        {
            for (int r = 0; r < rows; r++)
                w.Line(string.Join(" ", Enumerable.Range(0, count).Select(g => v.Floats + " acc" + r + "_" + g + " = default;")));
            using (w.Block("for (nuint i = 0; i < (nuint)" + a.Of("inputs", d.InputCount) + "; i++)"))
            {
                for (int r = 0; r < rows; r++)
                    w.Line(v.Floats + " broadcast" + r + " = " + v.Splat("Unsafe.Add(ref input, row" + r + " + i)") + ";");
                w.Line("nuint at = i * " + padded + " + " + (origin.Length > 0 ? origin + (first0 != 0 ? " + " + first0 : "") : first0.ToString(CultureInfo.InvariantCulture)) + ";");
                for (int g = 0; g < count; g++)
                {
                    w.Line("{ " + v.Floats + " weight = " + v.Load("weights", "at + " + (g * v.Lanes)) + ";");
                    for (int r = 0; r < rows; r++)
                        w.Line("  acc" + r + "_" + g + " = " + VectorWidth.MultiplyAdd("weight", "broadcast" + r, "acc" + r + "_" + g) + ";" + (r == rows - 1 ? " }" : ""));
                }
            }
            for (int g = 0; g < count; g++)
            {
                int first = first0 + g * v.Lanes;
                string channel = IndexExpression.Of(first, (origin, 1));
                for (int r = 0; r < rows; r++)
                {
                    string sum = "acc" + r + "_" + g;
                    string value = q is not null ? VectorWidth.MultiplyAdd(sum, v.Load("scales", channel), v.Load("biases", channel)) : sum + " + " + v.Load("biases", channel);
                    if (step.FusedRelu) value = v.Type + ".Max(" + value + ", " + v.Zero + ")";
                    // A looped group holds whole vectors of outputs only; a written-out one may end the row mid-vector.
                    w.Line(origin.Length > 0 || first + v.Lanes <= d.Outputs
                        ? v.Store(value, "result", "resultRow" + r + " + " + channel)
                        : v.Store(value, "MemoryMarshal.GetReference(sums)", (r * padded + first).ToString(CultureInfo.InvariantCulture)) + "   // the row ends mid-vector: through a buffer");
                }
            }
        }
    }
}
