using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Lowering;
using Qtaml.Generators.Network;
using Qtaml.Generators.Planning;

namespace Qtaml.Generators.Emit.Kernels;

/// <summary>Operators that move or combine whole tensors: products of computed values, transposes, reductions, concatenation, embeddings.</summary>
internal static class TensorKernels
{
    /// <summary>
    /// Where the vectors covering <paramref name="length"/> ≥ <paramref name="lanes"/> values start: every whole
    /// vector, then, when the length is not whole vectors, one more that ends at the last value and overlaps the
    /// one before. Computing a value twice in the same order gives the same bits, so storing the overlap twice is harmless.
    /// </summary>
    private static List<int> VectorStarts(int length, int lanes)
    {
        List<int> starts = Enumerable.Range(0, length / lanes).Select(v => v * lanes).ToList();
        if (length % lanes != 0) starts.Add(length - lanes);
        return starts;
    }

    /// <summary>Output vectors a product keeps in registers at a time.</summary>
    private const int OutputVectors = 8;

    /// <summary>
    /// A product of two computed values (attention scores, attention mixing): each output row is accumulated in
    /// registers, every left value broadcast and multiply-added with the right row's vectors.
    /// </summary>
    public static void WriteMatMul(SourceWriter w, Step step, MatMulLayer m)
    {
        w.Line("/// <summary>" + Escape.XmlDoc(m.Name) + ": " + m.Batch + " product(s) of [" + m.M + " x " + m.K + "] by [" + m.K + " x " + m.N + "] computed values.</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)"))
        {
            long rightLength = m.RightIsShared ? (long)m.K * m.N : (long)m.Batch * m.K * m.N;
            w.Line(KernelContext.LengthCheck(("a", (long)m.Batch * m.M * m.K), ("b", rightLength), ("y", m.OutputLength)));
            if (m.N < 4)
            {
                WriteSmallMatMul(w, m);
                return;
            }
            w.Line("ref float left = ref MemoryMarshal.GetReference(a);");
            w.Line("ref float right = ref MemoryMarshal.GetReference(b);");
            w.Line("ref float result = ref MemoryMarshal.GetReference(y);");
            VectorWidth.Dispatch(w, v =>
            {
                if (m.N < v.Lanes)
                {
                    WriteSmallMatMul(w, m);
                    return;
                }
                List<int> columns = VectorStarts(m.N, v.Lanes);
                using (w.Block("for (int batch = 0; batch < " + m.Batch + "; batch++)"))
                {
                    w.Line("nuint rightStart = " + (m.RightIsShared ? "0" : "(nuint)(batch * " + (m.K * m.N) + ")") + ";");
                    using (w.Block("for (int i = 0; i < " + m.M + "; i++)"))
                    {
                        w.Line("nuint leftRow = (nuint)((batch * " + m.M + " + i) * " + m.K + "), resultRow = (nuint)((batch * " + m.M + " + i) * " + m.N + ");");
                        for (int start = 0; start < columns.Count; start += OutputVectors)
                        {
                            List<int> group = columns.Skip(start).Take(OutputVectors).ToList();
                            using (w.Block("// columns " + group[0] + " to " + (group[group.Count - 1] + v.Lanes) + ", " + group.Count + " vector(s) in registers"))
                            {
                                w.Line(string.Join(" ", group.Select((_, g) => v.Floats + " acc" + g + " = default;")));
                                using (w.Block("for (nuint k = 0; k < " + m.K + "; k++)"))
                                {
                                    w.Line(v.Floats + " broadcast = " + v.Splat("Unsafe.Add(ref left, leftRow + k)") + ";");
                                    w.Line("nuint at = rightStart + k * " + m.N + ";");
                                    for (int g = 0; g < group.Count; g++)
                                        w.Line("acc" + g + " = " + VectorWidth.MultiplyAdd(v.Load("right", "at + " + group[g]), "broadcast", "acc" + g) + ";");
                                }
                                for (int g = 0; g < group.Count; g++) w.Line(v.Store("acc" + g, "result", "resultRow + " + group[g]));
                            }
                        }
                    }
                }
            }, wide: m.N >= VectorWidth.V512.Lanes);
        }
        w.Line();
    }

    /// <summary>Fewer output columns than a vector: plain loops.</summary>
    private static void WriteSmallMatMul(SourceWriter w, MatMulLayer m)
    {
        w.Line("y.Slice(0, " + m.OutputLength + ").Clear();");
        using (w.Block("for (int batch = 0; batch < " + m.Batch + "; batch++)"))
        {
            w.Line("ReadOnlySpan<float> leftRows = a.Slice(batch * " + (m.M * m.K) + ", " + (m.M * m.K) + ");");
            w.Line("ReadOnlySpan<float> rightRows = b.Slice(" + (m.RightIsShared ? "0" : "batch * " + (m.K * m.N)) + ", " + (m.K * m.N) + ");");
            w.Line("Span<float> product = y.Slice(batch * " + (m.M * m.N) + ", " + (m.M * m.N) + ");");
            using (w.Block("for (int i = 0; i < " + m.M + "; i++)"))
            using (w.Block("for (int k = 0; k < " + m.K + "; k++)"))
            {
                w.Line("float v = leftRows[i * " + m.K + " + k];");
                w.Line("for (int j = 0; j < " + m.N + "; j++) product[i * " + m.N + " + j] += v * rightRows[k * " + m.N + " + j];");
            }
        }
    }

    public static void WriteTranspose(SourceWriter w, Step step, TransposeLayer t)
    {
        (int[] input, int[] perm) = CanonicalTranspose(t.InputShape, t.Perm);
        int[] output = perm.Select(p => input[p]).ToArray();
        int[] inStrides = Shape.BroadcastStrides(input, input);
        w.Line("/// <summary>" + Escape.XmlDoc(t.Name) + ": Transpose " + Shape.Format(t.InputShape) + " -> " + Shape.Format(t.OutputShape) + ", axes (" + string.Join(", ", t.Perm) + ")"
            + (input.Length < t.InputShape.Length ? "; as " + Shape.Format(input) + " moved by (" + string.Join(", ", perm) + "), unit axes dropped and axes that move together merged" : "") + ".</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> x, Span<float> y)"))
        {
            int last = output.Length - 1;
            if (perm.Select((p, i) => p == i).All(same => same))
            {
                // Only unit axes move: the data is already in order.
                w.Line("x.Slice(0, " + t.InputLength + ").CopyTo(y);");
            }
            else if (last > 0 && perm[last] == last && output[last] >= 4)
            {
                // The last axis stays where it is: copy whole runs of it.
                int run = output[last];
                w.Line("int o = 0;");
                var outer = new List<IDisposable>();
                for (int d = 0; d < last; d++) outer.Add(w.Block("for (int i" + d + " = 0; i" + d + " < " + output[d] + "; i" + d + "++)"));
                w.Line("x.Slice(" + string.Join(" + ", Enumerable.Range(0, last).Select(d => "i" + d + " * " + inStrides[perm[d]])) + ", " + run + ").CopyTo(y.Slice(o, " + run + "));");
                w.Line("o += " + run + ";");
                for (int i = outer.Count - 1; i >= 0; i--) outer[i].Dispose();
            }
            else
            {
                // Element by element; both lengths are checked once, so the loop reads and writes without bounds tests.
                w.Line(KernelContext.LengthCheck(("x", t.InputLength), ("y", t.OutputLength)));
                w.Line("ref float source = ref MemoryMarshal.GetReference(x);");
                w.Line("ref float target = ref MemoryMarshal.GetReference(y);");
                w.Line("nuint o = 0;");
                var blocks = new List<IDisposable>();
                for (int d = 0; d < output.Length; d++) blocks.Add(w.Block("for (nuint i" + d + " = 0; i" + d + " < " + output[d] + "; i" + d + "++)"));
                w.Line("Unsafe.Add(ref target, o++) = Unsafe.Add(ref source, " + string.Join(" + ", Enumerable.Range(0, output.Length).Select(d => "i" + d + " * " + inStrides[perm[d]])) + ");");
                for (int i = blocks.Count - 1; i >= 0; i--) blocks[i].Dispose();
            }
        }
        w.Line();
    }

    /// <summary>
    /// A channel shuffle on a channels-last value (<see cref="Lowering.AssignLayouts.ShufflesChannels"/>): the input's
    /// C = a·b channels read as [a][b] and written as [b][a] at each position, the padding slots cleared.
    /// </summary>
    public static void WriteChannelShuffle(SourceWriter w, KernelContext k, Step step, TransposeLayer t)
    {
        ValueInfo stored = k.Value(step.Output);
        int a = t.InputShape[1], b = t.InputShape[2], channels = a * b, slots = stored.ChannelSlots;
        long positions = (long)stored.Images * stored.Positions;
        w.Line("/// <summary>" + Escape.XmlDoc(t.Name) + ": Transpose " + Shape.Format(t.InputShape) + " -> " + Shape.Format(t.OutputShape) + ", axes (" + string.Join(", ", t.Perm)
            + "): a shuffle of the " + channels + " channels at each position, channels-last with " + slots + " slots (output channel j * " + a + " + i is input channel i * " + b + " + j).</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> x, Span<float> y)"))
        {
            w.Line(KernelContext.LengthCheck(("x", positions * slots), ("y", positions * slots)));
            w.Line("ref float source = ref MemoryMarshal.GetReference(x);");
            w.Line("ref float target = ref MemoryMarshal.GetReference(y);");
            using (w.Block("for (nuint p = 0; p < " + positions + "; p++)"))
            {
                w.Line("ref float from = ref Unsafe.Add(ref source, p * " + slots + ");");
                w.Line("ref float to = ref Unsafe.Add(ref target, p * " + slots + ");");
                WriteShuffledPosition(w, a, b);
                if (slots > channels) w.Line("for (nuint s = " + channels + "; s < " + slots + "; s++) Unsafe.Add(ref to, s) = 0;");
            }
        }
        w.Line();
    }

    /// <summary>
    /// The most groups of a channel shuffle whose per-position loop writes each run of a channels as that many
    /// statements; more loop. ShuffleNet (4 groups) measured 10% faster on one thread for it (Stopwatch harness, four
    /// alternating pairs: minimum of 60 runs 2.02-2.19 ms unrolled, 2.34-2.43 ms with the loop over the groups).
    /// </summary>
    private const int MaxUnrolledShuffle = 8;

    /// <summary>
    /// One position's channel shuffle: the a·b channels at <c>from</c> read as [a][b] and written at <c>to</c> as
    /// [b][a] (channel j·a + i is channel i·b + j), each run of a written whole where a is small. Used by the shuffle
    /// step and by a depthwise convolution's staging that does the shuffle before it (FoldChannelShuffles).
    /// </summary>
    public static void WriteShuffledPosition(SourceWriter w, int a, int b)
    {
        using (w.Block("for (nuint j = 0; j < " + b + "; j++)"))
        {
            if (a <= MaxUnrolledShuffle)
            {
                w.Line("ref float run = ref Unsafe.Add(ref to, " + IndexExpression.Of(0, ("j", a)) + ");");
                for (int i = 0; i < a; i++)
                    w.Line((i == 0 ? "run" : "Unsafe.Add(ref run, " + i + ")") + " = Unsafe.Add(ref from, " + IndexExpression.Plus("j", (long)i * b) + ");");
            }
            else
                w.Line("for (nuint i = 0; i < " + a + "; i++) Unsafe.Add(ref to, " + IndexExpression.Of(0, ("j", a), ("i", 1)) + ") = Unsafe.Add(ref from, " + IndexExpression.Of(0, ("i", b), ("j", 1)) + ");");
        }
    }

    /// <summary>
    /// The same transpose over fewer axes: unit axes dropped (they do not order anything), then input axes that stay
    /// next to each other in the output merged into one. Copies the same elements in the same order.
    /// </summary>
    public static (int[] Shape, int[] Perm) CanonicalTranspose(int[] shape, int[] perm)
    {
        int[] kept = Enumerable.Range(0, shape.Length).Where(d => shape[d] != 1).ToArray();
        if (kept.Length == 0) return (new[] { 1 }, new[] { 0 });
        var dims = kept.Select(d => shape[d]).ToList();
        var order = perm.Where(p => shape[p] != 1).Select(p => Array.IndexOf(kept, p)).ToList();
        // Merge axis a + 1 into a wherever the output reads a then a + 1.
        for (int i = order.Count - 2; i >= 0; i--)
        {
            int a = order[i];
            if (order[i + 1] != a + 1) continue;
            dims[a] *= dims[a + 1];
            dims.RemoveAt(a + 1);
            order.RemoveAt(i + 1);
            for (int j = 0; j < order.Count; j++) if (order[j] > a) order[j]--;
        }
        return (dims.ToArray(), order.ToArray());
    }

    public static void WriteReduce(SourceWriter w, Step step, ReduceLayer r)
    {
        string what = r.Kind switch { ReduceKind.Mean => "the mean", ReduceKind.Sum => "the sum", ReduceKind.Max => "the largest value", _ => "the smallest value" };
        w.Line("/// <summary>" + Escape.XmlDoc(r.Name) + ": " + what + " over axis " + r.Axis + " of " + Shape.Format(r.InputShape) + " (" + r.Reduced + " values each).</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> x, Span<float> y)"))
        {
            w.Line(KernelContext.LengthCheck(("x", r.InputLength), ("y", r.OutputLength)));
            if (r.Inner >= 4)
            {
                // A vector of inner positions at a time, reduced over the axis in the same order as one at a time; a
                // last vector overlapping the one before recomputes the same results.
                w.Line("ref float source = ref MemoryMarshal.GetReference(x);");
                w.Line("ref float target = ref MemoryMarshal.GetReference(y);");
                VectorWidth.Dispatch(w, v =>
                {
                    if (r.Inner < v.Lanes)
                    {
                        WriteScalarReduce(w, r);
                        return;
                    }
                    string Load(string k) => v.Load("source", "(nuint)((o * " + r.Reduced + " + " + k + ") * " + r.Inner + " + start)");
                    using (w.Block("for (int o = 0; o < " + r.Outer + "; o++)"))
                    using (w.Block("for (int next = 0; next < " + r.Inner + "; next += " + v.Lanes + ")"))
                    {
                        w.Line(r.Inner % v.Lanes == 0 ? "int start = next;" : "int start = Math.Min(next, " + (r.Inner - v.Lanes) + ");   // the last vector overlaps the one before");
                        if (r.Kind is ReduceKind.Mean or ReduceKind.Sum)
                        {
                            w.Line(v.Floats + " sum = " + v.Zero + ";");
                            w.Line("for (int k = 0; k < " + r.Reduced + "; k++) sum += " + Load("k") + ";");
                            w.Line(v.Store(r.Kind == ReduceKind.Mean ? "sum * " + v.Splat(Literals.Float(1f / r.Reduced)) : "sum", "target", "(nuint)(o * " + r.Inner + " + start)"));
                        }
                        else
                        {
                            w.Line(v.Floats + " best = " + Load("0") + ";");
                            w.Line("for (int k = 1; k < " + r.Reduced + "; k++) best = " + v.Type + "." + r.Kind + "(best, " + Load("k") + ");");
                            w.Line(v.Store("best", "target", "(nuint)(o * " + r.Inner + " + start)"));
                        }
                    }
                }, wide: r.Inner >= VectorWidth.V512.Lanes);
            }
            else
            {
                WriteScalarReduce(w, r);
            }
        }
        w.Line();
    }

    private static void WriteScalarReduce(SourceWriter w, ReduceLayer r)
    {
        if (r.Kind is ReduceKind.Mean or ReduceKind.Sum)
        {
            w.Line("y.Slice(0, " + r.OutputLength + ").Clear();");
            using (w.Block("for (int o = 0; o < " + r.Outer + "; o++)"))
            using (w.Block("for (int k = 0; k < " + r.Reduced + "; k++)"))
                w.Line("for (int i = 0; i < " + r.Inner + "; i++) y[o * " + r.Inner + " + i] += x[(o * " + r.Reduced + " + k) * " + r.Inner + " + i];");
            if (r.Kind == ReduceKind.Mean) w.Line("for (int i = 0; i < " + r.OutputLength + "; i++) y[i] *= " + Literals.Float(1f / r.Reduced) + ";");
            return;
        }
        using (w.Block("for (int o = 0; o < " + r.Outer + "; o++)"))
        {
            w.Line("for (int i = 0; i < " + r.Inner + "; i++) y[o * " + r.Inner + " + i] = x[o * " + r.Reduced + " * " + r.Inner + " + i];");
            using (w.Block("for (int k = 1; k < " + r.Reduced + "; k++)"))
                w.Line("for (int i = 0; i < " + r.Inner + "; i++) y[o * " + r.Inner + " + i] = MathF." + r.Kind + "(y[o * " + r.Inner + " + i], x[(o * " + r.Reduced + " + k) * " + r.Inner + " + i]);");
        }
    }

    public static void WriteConcat(SourceWriter w, KernelContext k, Step step, ConcatLayer c)
    {
        string method = step.Method;
        var parameters = new List<string>();
        var sources = new List<string>();
        int valueIndex = 0;
        foreach (Operand part in c.Parts)
        {
            if (part.IsConstant)
            {
                sources.Add(method + "_Part" + sources.Count);
            }
            else
            {
                parameters.Add("ReadOnlySpan<float> x" + valueIndex);
                sources.Add("x" + valueIndex++);
            }
        }
        parameters.Add("Span<float> y");
        if (k.Value(step.Output).Image().Layout == Layout.ChannelsLast)
        {
            WriteChannelsLastConcat(w, k, step, c, parameters);
            return;
        }
        int total = c.Parts.Sum(c.Chunk);
        string? relu = step.FusedRelu ? ElementwiseKernels.UseRelu(k) : null;
        w.Line("/// <summary>" + Escape.XmlDoc(c.Name) + ": Concat of " + string.Join(", ", c.Parts.Select(ElementwiseKernels.Describe)) + " along axis " + c.Axis + (relu is null ? "" : ", ReLU fused in") + ".</summary>");
        using (w.Kernel("private static void " + method + "(" + string.Join(", ", parameters) + ")"))
        using (w.Block("for (int o = 0; o < " + c.Outer + "; o++)"))
        {
            int at = 0;
            for (int p = 0; p < c.Parts.Length; p++)
            {
                int chunk = c.Chunk(c.Parts[p]);
                string source = c.Parts[p].IsConstant ? "((ReadOnlySpan<float>)" + sources[p] + ")" : sources[p];
                w.Line(CopyPart(relu, source + ".Slice(o * " + chunk + ", " + chunk + ")", "y.Slice(o * " + total + " + " + at + ", " + chunk + ")", chunk));
                at += chunk;
            }
        }
        for (int p = 0; p < c.Parts.Length; p++)
            if (c.Parts[p].IsConstant) w.Line("private static ReadOnlySpan<float> " + sources[p] + " => " + k.Data.FloatSpan(c.Parts[p].Constant!) + ";");
        w.Line();
    }

    /// <summary>
    /// The statement that copies <paramref name="count"/> floats of a Concat's part into place: as they are, or through
    /// the shared ReLU (<paramref name="relu"/>, its name) when a ReLU after the Concat is fused in (FuseActivations):
    /// max(x, 0) of a part is that part of max(x, 0).
    /// </summary>
    private static string CopyPart(string? relu, string from, string to, int count) =>
        relu is null ? from + ".CopyTo(" + to + ");" : relu + "(" + from + ", " + to + ", " + count + ");";

    /// <summary>
    /// A Concat along the channels of channels-last values (AssignLayouts): at each position, each part's channels
    /// copied into place after the previous part's, the output's padding slots cleared.
    /// </summary>
    private static void WriteChannelsLastConcat(SourceWriter w, KernelContext k, Step step, ConcatLayer c, List<string> parameters)
    {
        ValueInfo output = k.Value(step.Output).Image();
        int positions = c.OutputShape.Skip(2).Aggregate(c.OutputShape[0], (a, b) => a * b), channels = c.OutputShape[1], slots = output.ChannelSlots;
        string? relu = step.FusedRelu ? ElementwiseKernels.UseRelu(k) : null;
        w.Line("/// <summary>" + Escape.XmlDoc(c.Name) + ": Concat of " + string.Join(", ", c.Parts.Select(ElementwiseKernels.Describe)) + " along the channels, channels-last with " + slots + " slots"
            + (relu is null ? "" : ", ReLU fused in (each part's channels copied as max(x, 0))") + ".</summary>");
        using (w.Kernel("private static void " + step.Method + "(" + string.Join(", ", parameters) + ")"))
        using (w.Block("for (int p = 0; p < " + positions + "; p++)"))
        {
            int at = 0;
            for (int i = 0; i < c.Parts.Length; i++)
            {
                int partChannels = c.Parts[i].Shape[1], partSlots = k.Value(step.Inputs[i]).Image().ChannelSlots;
                w.Line(CopyPart(relu, "x" + i + ".Slice(p * " + partSlots + ", " + partChannels + ")", "y.Slice(" + IndexExpression.Plus("p * " + slots, at) + ", " + partChannels + ")", partChannels));
                at += partChannels;
            }
            if (slots > channels) w.Line("y.Slice(p * " + slots + " + " + channels + ", " + (slots - channels) + ").Clear();");
        }
        w.Line();
    }

    /// <summary>
    /// An embedding: each picked row dequantized (or copied) into place. Rows picked at run time come from an integer
    /// input as whole floats; each is checked against the table before it is read (a value that is not a whole number
    /// in [−rows, rows) throws, negative ones count from the end as in ONNX), and the comparison comes before the
    /// conversion, so no value can overflow it.
    /// </summary>
    public static void WriteEmbedding(SourceWriter w, KernelContext k, Step step, EmbeddingLayer e)
    {
        string method = step.Method;
        bool computed = e.Indices is null;
        w.Line("/// <summary>" + Escape.XmlDoc(e.Name) + ": rows of a " + e.Rows + " x " + e.Width + " embedding table at " + e.Count + (computed ? " indices the input holds" : " baked indices") + ".</summary>");
        QuantizedLayer? q = k.IsQuantized ? k.Quantized(e) : null;
        string parameters = (q is not null ? "ReadOnlySpan<byte> w, " + KernelContext.DequantizationParameters + ", " : "") + (computed ? "ReadOnlySpan<float> x, " : "") + "Span<float> y";
        using (w.Kernel("private static void " + method + "(" + parameters + ")"))
        {
            if (q is not null)
            {
                w.Line(k.CodeSpan());
                w.Line("ReadOnlySpan<float> scale = " + method + "_Scale;");
            }
            else w.Line("ReadOnlySpan<float> table = " + method + "_Table;");
            if (!computed) w.Line("ReadOnlySpan<int> indices = " + method + "_Indices;");
            using (w.Block("for (int t = 0; t < " + e.Count + "; t++)"))
            {
                if (computed)
                {
                    w.Line("float index = x[t];");
                    w.Line("if (!(index >= -" + e.Rows + "f && index < " + e.Rows + "f) || index != MathF.Floor(index))");
                    w.Line("    throw new ArgumentOutOfRangeException(nameof(x), index, \"An index input holds a value that is not a row of the " + e.Rows + "-row embedding table: whole numbers from -" + e.Rows + " to " + (e.Rows - 1) + ".\");");
                    w.Line("int row = (int)index < 0 ? (int)index + " + e.Rows + " : (int)index;");
                }
                else w.Line("int row = indices[t];");
                if (q is not null)
                    w.Line("for (int i = 0; i < " + e.Width + "; i++) y[t * " + e.Width + " + i] = scale[row] * scaleFactor * (" + k.CodeRead("row * " + e.Width + " + i") + " + codeOffset);");
                else
                    w.Line("table.Slice(row * " + e.Width + ", " + e.Width + ").CopyTo(y.Slice(t * " + e.Width + ", " + e.Width + "));");
            }
        }
        if (q is not null) w.Line("private static ReadOnlySpan<float> " + method + "_Scale => " + k.Data.FloatSpan(q.ChannelScales) + ";");
        else w.Line("private static ReadOnlySpan<float> " + method + "_Table => " + k.Data.FloatSpan(e.Weights) + ";");
        if (!computed) w.Line("private static ReadOnlySpan<int> " + method + "_Indices => new int[] { " + string.Join(", ", e.Indices!.Select(i => Literals.Int(i))) + " };");
        w.Line();
    }
}
