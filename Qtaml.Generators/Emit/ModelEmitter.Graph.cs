using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Planning;

namespace Qtaml.Generators.Emit;

/// <summary>
/// The emitter's half for networks that are not chains (a transformer): every value gets a slice of one
/// activation arena, reused once nothing reads it any more; reshapes share their input's slice; and every
/// operator is a method over constant shapes.
/// </summary>
internal static partial class ModelEmitter
{
    private const string V = "global::System.Runtime.Intrinsics.Vector256";
    private const string RoSpan = "global::System.ReadOnlySpan<float>";
    private const string Span = "global::System.Span<float>";

    /// <summary>Where each value lives: the network input, or an offset into the arena.</summary>
    private sealed class ArenaPlan
    {
        public ArenaPlan(int[] root, int[] offset, int size)
        {
            Root = root;
            Offset = offset;
            Size = size;
        }

        /// <summary>The value whose storage a value shares (itself, or what a reshape read).</summary>
        public int[] Root { get; }

        public int[] Offset { get; }
        public int Size { get; }
    }

    /// <summary>
    /// Gives every computed value a slice of one arena. A slice is freed after the last layer that reads it
    /// (the output's never is) and reused whole by a later value that fits, the smallest such slice first.
    /// </summary>
    private static ArenaPlan PlanArena(NetworkGraph graph)
    {
        Layer[] layers = graph.Layers;
        int values = layers.Length + 1;
        var root = new int[values];
        for (int v = 1; v < values; v++) root[v] = layers[v - 1] is ReshapeLayer ? root[layers[v - 1].Inputs[0]] : v;
        var lastUse = new int[values];
        for (int i = 0; i < layers.Length; i++)
            foreach (int input in layers[i].Inputs) lastUse[root[input]] = Math.Max(lastUse[root[input]], i);
        lastUse[root[graph.OutputValue]] = int.MaxValue;

        var offset = new int[values];
        var blocks = new List<(int Offset, int Size, int FreeAfter)>();
        int size = 0;
        for (int i = 0; i < layers.Length; i++)
        {
            int v = i + 1;
            if (root[v] != v) continue;
            int length = layers[i].OutputLength, best = -1;
            for (int b = 0; b < blocks.Count; b++)
                if (blocks[b].FreeAfter < i && blocks[b].Size >= length && (best < 0 || blocks[b].Size < blocks[best].Size)) best = b;
            if (best < 0)
            {
                blocks.Add((size, length, lastUse[v]));
                offset[v] = size;
                size += length;
            }
            else
            {
                offset[v] = blocks[best].Offset;
                blocks[best] = (blocks[best].Offset, blocks[best].Size, lastUse[v]);
            }
        }
        return new ArenaPlan(root, offset, size);
    }

    private static void WriteGraphForward(SourceWriter w, ModelPlan plan, SharedKernels shared)
    {
        NetworkGraph graph = plan.Graph;
        Layer[] layers = graph.Layers;
        ArenaPlan arena = PlanArena(graph);
        var parameters = plan.IsQuantized ? plan.Layers.Select((_, l) => "global::System.ReadOnlySpan<byte> w" + l).ToList() : new List<string>();
        parameters.Add(RoSpan + " input");
        parameters.Add(Span + " output");

        string Read(int value)
        {
            int r = arena.Root[value];
            return r == 0 ? "input" : "arena.Slice(" + arena.Offset[r] + ", " + Shape.Length(graph.ValueShape(value)) + ")";
        }

        w.Line("/// <summary>");
        w.Line("/// The layers in order over one arena of " + arena.Size + " floats: each value has a slice, reused once nothing reads it.");
        w.Line("/// </summary>");
        using (w.Block("private static void Forward(" + string.Join(", ", parameters) + ")"))
        {
            w.Line(arena.Size <= StackFloats
                ? Span + " arena = stackalloc float[" + Math.Max(arena.Size, 1) + "];"
                : Span + " arena = s_arena ??= new float[" + arena.Size + "];");
            int weightIndex = 0;
            for (int i = 0; i < layers.Length; i++)
            {
                Layer layer = layers[i];
                string method = MethodName(layer, i), y = Read(i + 1);
                string inputs = string.Join(", ", layer.Inputs.Select(Read));
                switch (layer)
                {
                    case ReshapeLayer:
                        w.Line("// " + Escape.LineComment(layer.Name) + ": " + layer.Operator + " " + Shape.Format(layer.InputShape) + " -> " + Shape.Format(layer.OutputShape) + " reads the same slice.");
                        break;
                    case DenseLayer dense when dense.Rows > 1 && plan.IsQuantized:
                        w.Line(method + "(w" + weightIndex + ", " + inputs + ", " + y + ");");
                        weightIndex++;
                        break;
                    case DenseLayer dense when dense.Rows > 1:
                        w.Line("// " + Escape.LineComment(layer.Name) + ": the same weights for each of " + dense.Rows + " rows.");
                        using (w.Block("for (int r = 0; r < " + dense.Rows + "; r++)"))
                            w.Line(method + "(" + (plan.IsQuantized ? "w" + weightIndex + ", " : "") + inputs + ".Slice(r * " + dense.InputCount + ", " + dense.InputCount + "), "
                                + y + ".Slice(r * " + dense.Outputs + ", " + dense.Outputs + "));");
                        weightIndex++;
                        break;
                    case EmbeddingLayer:
                        w.Line(method + "(" + (plan.IsQuantized ? "w" + weightIndex + ", " : "") + y + ");");
                        weightIndex++;
                        break;
                    case WeightLayer:
                        w.Line(shared.Call(layer, method, plan.IsQuantized ? "w" + weightIndex : null, inputs + ", " + y) + ";");
                        weightIndex++;
                        break;
                    default:
                        w.Line(method + "(" + inputs + ", " + y + ");");
                        break;
                }
            }
            w.Line(Read(graph.OutputValue) + ".CopyTo(output);");
        }
        if (arena.Size > StackFloats)
        {
            w.Line();
            w.Line("[global::System.ThreadStatic] private static float[]? s_arena;");
        }
        w.Line();
    }

    /// <summary>The layers only a graph has, and the graph forms of ReLU and softmax (from one slice into another).</summary>
    private static bool WriteGraphLayer(SourceWriter w, ModelPlan plan, Layer layer, string method)
    {
        switch (layer)
        {
            case ReluLayer:
                w.Line("/// <summary>" + Escape.XmlDoc(layer.Name) + ": max(x, 0).</summary>");
                w.Line("private static void " + method + "(" + RoSpan + " x, " + Span + " y) { for (int i = 0; i < " + layer.OutputLength + "; i++) y[i] = global::System.MathF.Max(0f, x[i]); }");
                break;
            case SoftmaxLayer s: WriteRowSoftmax(w, s, method); break;
            case UnaryLayer u: WriteUnary(w, u, method); break;
            case BinaryLayer b: WriteBinary(w, b, method); break;
            case LayerNormLayer n: WriteLayerNorm(w, n, method); break;
            case MatMulLayer m: WriteMatMul(w, m, method); break;
            case TransposeLayer t: WriteTranspose(w, t, method); break;
            case ReduceMeanLayer r: WriteReduceMean(w, r, method); break;
            case ConcatLayer c: WriteConcat(w, c, method); break;
            case EmbeddingLayer e: WriteEmbedding(w, plan, e, method); break;
            case DenseLayer d when d.Rows > 1 && plan.IsQuantized: WriteRowsDense(w, plan, d, method); return true;
            default: return false;
        }
        w.Line();
        return true;
    }

    /// <summary>Output vectors a row-batched dense layer keeps in registers at a time.</summary>
    private const int MaxOutputVectors = 8;

    /// <summary>
    /// A dense layer applied to every row of a [rows, inputs] value (a transformer projection). Its codes are
    /// stored input-major (<see cref="DenseLayer.StoresInputMajor"/>), so once per call they are converted, eight at
    /// a time, into an [input][output] float table padded to whole vectors, which every row then reuses: each
    /// input value is broadcast and multiply-added into up to 64 outputs held in registers, and scale and bias are
    /// applied to whole vectors as they are stored.
    /// </summary>
    private static void WriteRowsDense(SourceWriter w, ModelPlan plan, DenseLayer d, string method)
    {
        QuantizedLayer q = Quantized(plan, d);
        int vectors = (d.Outputs + 7) / 8, padded = vectors * 8, table = d.InputCount * padded, whole = d.Outputs / 8 * 8;
        const string Mm = "global::System.Runtime.InteropServices.MemoryMarshal";
        w.Line("/// <summary>" + Escape.XmlDoc(d.Name) + ": " + d.Operator + ", " + d.InputCount + " inputs to " + d.Outputs + " outputs for each of " + d.Rows + " rows, from one dequantized table.</summary>");
        using (w.Block("private static void " + method + "(global::System.ReadOnlySpan<byte> w, " + RoSpan + " x, " + Span + " y)"))
        {
            w.Line(CodeSpan(plan));
            w.Line("if (w.Length < " + d.Weights.Length * plan.BytesPerCode + " || x.Length < " + d.InputLength + " || y.Length < " + d.OutputLength + ") throw new global::System.ArgumentException(\"A layer buffer is too short.\");");
            w.Line("// The codes (stored input-major) as floats, [input][output], outputs padded with zeros to " + padded + ".");
            w.Line(table <= StackWeights
                ? Span + " table = stackalloc float[" + table + "];"
                : Span + " table = s_" + method + "_Table ??= new float[" + table + "];");
            w.Line("ref float weights = ref " + Mm + ".GetReference(table);");
            WriteCodeTable(w, plan, d.InputCount, d.Outputs, padded, 0f);
            w.Line("ref float input = ref " + Mm + ".GetReference(x);");
            w.Line("ref float result = ref " + Mm + ".GetReference(y);");
            w.Line("ref float scales = ref " + Mm + ".GetReference(" + method + "_Scale);");
            w.Line("ref float biases = ref " + Mm + ".GetReference(" + method + "_Bias);");
            if (whole < d.Outputs) w.Line(Span + " sums = stackalloc float[" + (2 * padded) + "];");
            // Two rows at a time share every weight vector load; an odd last row goes alone.
            w.Line("int r = 0;");
            using (w.Block("for (; r + 1 < " + d.Rows + "; r += 2)"))
                WriteRowsDenseBlock(w, d, q, padded, 2);
            if (d.Rows % 2 == 1)
                using (w.Block("// the last row"))
                    WriteRowsDenseBlock(w, d, q, padded, 1);
        }
        if (table > StackWeights) w.Line("[global::System.ThreadStatic] private static float[]? s_" + method + "_Table;");
        w.Line("// Per-output scale and bias, padded with zeros to " + padded + " outputs.");
        w.Line("private static " + RoSpan + " " + method + "_Scale => " + Literals.FloatArray(Pad(q.ChannelScales, padded)) + ";");
        w.Line("private static " + RoSpan + " " + method + "_Bias => " + Literals.FloatArray(Pad(d.Bias, padded)) + ";");
    }

    /// <summary>
    /// One block of <paramref name="rows"/> rows (starting at r) of a row-batched dense layer: output vectors in
    /// groups that fit the registers with one accumulator per row and vector, each weight vector loaded once per
    /// input for all the rows, then scale and bias applied as the vectors are stored.
    /// </summary>
    private static void WriteRowsDenseBlock(SourceWriter w, DenseLayer d, QuantizedLayer q, int padded, int rows)
    {
        const string Mm = "global::System.Runtime.InteropServices.MemoryMarshal";
        bool offset = q.CodeOffset != 0;
        int vectors = padded / 8, whole = d.Outputs / 8 * 8, groupSize = rows == 1 ? MaxOutputVectors : 6;
        for (int k = 0; k < rows; k++)
        {
            w.Line("nuint row" + k + " = (nuint)((r + " + k + ") * " + d.InputCount + "), resultRow" + k + " = (nuint)((r + " + k + ") * " + d.Outputs + ");");
            if (offset)
            {
                if (k == 0) w.Line("// Mean correction: every read code is shifted by p01, so each output gains p01 times the row's sum.");
                w.Line("float inputSum" + k + " = 0f;");
                w.Line("for (int i = 0; i < " + d.InputCount + "; i++) inputSum" + k + " += x[(r + " + k + ") * " + d.InputCount + " + i];");
                w.Line(V + "<float> correction" + k + " = " + V + ".Create(" + Literals.Float(q.CodeOffset) + " * inputSum" + k + ");");
            }
        }
        for (int start = 0; start < vectors; start += groupSize)
        {
            int count = Math.Min(groupSize, vectors - start);
            using (w.Block("// outputs " + (start * 8) + " to " + Math.Min(d.Outputs, (start + count) * 8) + ": " + count + " vector(s) x " + rows + " row(s) in registers"))
            {
                for (int k = 0; k < rows; k++)
                    w.Line(string.Join(" ", Enumerable.Range(0, count).Select(g => V + "<float> acc" + k + "_" + g + " = default;")));
                using (w.Block("for (int i = 0; i < " + d.InputCount + "; i++)"))
                {
                    for (int k = 0; k < rows; k++)
                        w.Line(V + "<float> broadcast" + k + " = " + V + ".Create(global::System.Runtime.CompilerServices.Unsafe.Add(ref input, row" + k + " + (nuint)i));");
                    w.Line("nuint at = (nuint)(i * " + padded + " + " + (start * 8) + ");");
                    for (int g = 0; g < count; g++)
                    {
                        w.Line("{ " + V + "<float> weight = " + V + ".LoadUnsafe(ref weights, at + " + (8 * g) + ");");
                        for (int k = 0; k < rows; k++)
                            w.Line("  acc" + k + "_" + g + " = " + "global::Qtaml.Numerics.VectorMath.MultiplyAdd(weight, broadcast" + k + ", acc" + k + "_" + g + ");" + (k == rows - 1 ? " }" : ""));
                    }
                }
                for (int g = 0; g < count; g++)
                {
                    int first = 8 * (start + g);
                    for (int k = 0; k < rows; k++)
                    {
                        string sum = offset ? "acc" + k + "_" + g + " + correction" + k : "acc" + k + "_" + g;
                        string value = "global::Qtaml.Numerics.VectorMath.MultiplyAdd(" + sum + ", " + V + ".LoadUnsafe(ref scales, " + first + "), " + V + ".LoadUnsafe(ref biases, " + first + "))";
                        w.Line(first + 8 <= d.Outputs
                            ? V + ".StoreUnsafe(" + value + ", ref result, resultRow" + k + " + " + first + ");"
                            : V + ".StoreUnsafe(" + value + ", ref " + Mm + ".GetReference(sums), " + (k * padded + first) + ");   // the row ends mid-vector: through a buffer");
                    }
                }
            }
        }
        if (whole < d.Outputs)
            for (int k = 0; k < rows; k++)
                w.Line("for (int o = " + whole + "; o < " + d.Outputs + "; o++) y[(r + " + k + ") * " + d.Outputs + " + o] = sums[" + (k * padded) + " + o];");
    }

    /// <summary>
    /// Softmax over the last axis, each row shifted by its maximum. Rows of 8 or more go 8 at a time with the
    /// vectorized exponential; a row that is not whole vectors ends with one vector overlapping the one before
    /// (it recomputes the same exponentials, so the values stored twice are equal) whose repeated lanes are masked
    /// out of the sum.
    /// </summary>
    private static void WriteRowSoftmax(SourceWriter w, SoftmaxLayer s, string method)
    {
        int length = s.Length, whole = length / 8 * 8, tail = length - whole;
        w.Line("/// <summary>" + Escape.XmlDoc(s.Name) + ": softmax over the last axis (" + s.Rows + " rows of " + length + "), shifted by each row's maximum.</summary>");
        using (w.Block("private static void " + method + "(" + RoSpan + " x, " + Span + " y)"))
        {
            if (length < 8)
            {
                using (w.Block("for (int r = 0; r < " + s.Rows + "; r++)"))
                {
                    w.Line(RoSpan + " row = x.Slice(r * " + length + ", " + length + ");");
                    w.Line(Span + " result = y.Slice(r * " + length + ", " + length + ");");
                    w.Line("float max = float.NegativeInfinity;");
                    w.Line("for (int i = 0; i < " + length + "; i++) max = global::System.MathF.Max(max, row[i]);");
                    w.Line("float sum = 0f;");
                    w.Line("for (int i = 0; i < " + length + "; i++) { float e = global::System.MathF.Exp(row[i] - max); result[i] = e; sum += e; }");
                    w.Line("float inverse = 1f / sum;");
                    w.Line("for (int i = 0; i < " + length + "; i++) result[i] *= inverse;");
                }
                return;
            }
            w.Line("if (x.Length < " + s.InputLength + " || y.Length < " + s.InputLength + ") throw new global::System.ArgumentException(\"A layer buffer is too short.\");");
            w.Line("ref float source = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);");
            w.Line("ref float target = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y);");
            if (tail > 0)
            {
                w.Line("// The last vector of a row starts " + (8 - tail) + " values before the end of the whole vectors; only its last " + tail + " lanes are new.");
                w.Line(V + "<float> fresh = " + V + ".AsSingle(" + V + ".Create(" + string.Join(", ", Enumerable.Range(0, 8).Select(j => j >= 8 - tail ? "-1" : "0")) + "));");
            }
            using (w.Block("for (int r = 0; r < " + s.Rows + "; r++)"))
            {
                w.Line("nuint row = (nuint)(r * " + length + ");");
                w.Line(V + "<float> largest = " + V + ".LoadUnsafe(ref source, row);");
                if (whole > 8) w.Line("for (nuint k = 8; k < " + whole + "; k += 8) largest = " + V + ".Max(largest, " + V + ".LoadUnsafe(ref source, row + k));");
                if (tail > 0) w.Line("largest = " + V + ".Max(largest, " + V + ".LoadUnsafe(ref source, row + " + (length - 8) + "));");
                w.Line("float max = " + V + ".GetElement(largest, 0);");
                w.Line("for (int lane = 1; lane < 8; lane++) max = global::System.MathF.Max(max, " + V + ".GetElement(largest, lane));");
                w.Line(V + "<float> shift = " + V + ".Create(max), sum = " + V + "<float>.Zero;");
                using (w.Block("for (nuint k = 0; k < " + whole + "; k += 8)"))
                {
                    w.Line(V + "<float> e = global::Qtaml.Numerics.VectorMath.Exp(" + V + ".LoadUnsafe(ref source, row + k) - shift);");
                    w.Line(V + ".StoreUnsafe(e, ref target, row + k);");
                    w.Line("sum += e;");
                }
                if (tail > 0)
                {
                    w.Line("{ " + V + "<float> e = global::Qtaml.Numerics.VectorMath.Exp(" + V + ".LoadUnsafe(ref source, row + " + (length - 8) + ") - shift);");
                    w.Line("  " + V + ".StoreUnsafe(e, ref target, row + " + (length - 8) + ");");
                    w.Line("  sum += e & fresh; }");
                }
                w.Line("float inverse = 1f / " + V + ".Sum(sum);");
                w.Line(V + "<float> scale = " + V + ".Create(inverse);");
                w.Line("for (nuint k = 0; k < " + whole + "; k += 8) " + V + ".StoreUnsafe(" + V + ".LoadUnsafe(ref target, row + k) * scale, ref target, row + k);");
                if (tail > 0) w.Line("for (nuint k = " + whole + "; k < " + length + "; k++) global::System.Runtime.CompilerServices.Unsafe.Add(ref target, row + k) *= inverse;");
            }
        }
    }

    private static void WriteUnary(SourceWriter w, UnaryLayer u, string method)
    {
        string f = u.Kind switch
        {
            UnaryKind.Erf => "global::Qtaml.Numerics.SpecialFunctions.Erf(v)",
            UnaryKind.Gelu => "global::Qtaml.Numerics.SpecialFunctions.Gelu(v)",
            UnaryKind.Sqrt => "global::System.MathF.Sqrt(v)",
            UnaryKind.Tanh => "global::System.MathF.Tanh(v)",
            UnaryKind.Sigmoid => "1f / (1f + global::System.MathF.Exp(-v))",
            UnaryKind.Exp => "global::System.MathF.Exp(v)",
            UnaryKind.Neg => "-v",
            UnaryKind.Abs => "global::System.MathF.Abs(v)",
            _ => "1f / v",
        };
        bool vector = u.Kind is UnaryKind.Erf or UnaryKind.Gelu && u.OutputLength >= 8;
        w.Line("/// <summary>" + Escape.XmlDoc(u.Name) + ": " + u.Operator + ", elementwise over " + Shape.Format(u.OutputShape) + (vector ? ", 8 at a time" : "") + ".</summary>");
        using (w.Block("private static void " + method + "(" + RoSpan + " x, " + Span + " y)"))
        {
            w.Line("int i = 0;");
            if (vector)
            {
                w.Line("if (x.Length < " + u.OutputLength + " || y.Length < " + u.OutputLength + ") throw new global::System.ArgumentException(\"A layer buffer is too short.\");");
                w.Line("ref float from = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);");
                w.Line("ref float to = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y);");
                w.Line("for (; i <= " + (u.OutputLength - 8) + "; i += 8) " + V + ".StoreUnsafe(global::Qtaml.Numerics.SpecialFunctions." + u.Kind + "(" + V + ".LoadUnsafe(ref from, (nuint)i)), ref to, (nuint)i);");
            }
            using (w.Block("for (; i < " + u.OutputLength + "; i++)"))
            {
                w.Line("float v = x[i];");
                w.Line("y[i] = " + f + ";");
            }
        }
    }

    /// <summary>
    /// Broadcasting as nested loops over the output's axes, each operand indexed with its own strides (0 on an
    /// axis it is broadcast along); equal shapes and scalars take one flat loop.
    /// </summary>
    private static void WriteBinary(SourceWriter w, BinaryLayer b, string method)
    {
        int[] output = b.OutputShape;
        string Element(Operand o, string name, string index) => o.Length == 1
            ? (o.IsConstant ? Literals.Float(o.Constant![0]) : name + "[0]")
            : name + "[" + index + "]";
        string Combine(string l, string r) => b.Kind switch
        {
            BinaryKind.Add => l + " + " + r,
            BinaryKind.Sub => l + " - " + r,
            BinaryKind.Mul => l + " * " + r,
            BinaryKind.Div => l + " / " + r,
            _ => b.Right.IsConstant && b.Right.Length == 1 && b.Right.Constant![0] == 2f ? l + " * " + l
                : b.Right.IsConstant && b.Right.Length == 1 && b.Right.Constant![0] == 0.5f ? "global::System.MathF.Sqrt(" + l + ")"
                : "global::System.MathF.Pow(" + l + ", " + r + ")",
        };
        var parameters = new List<string>();
        if (!b.Left.IsConstant) parameters.Add(RoSpan + " a");
        if (!b.Right.IsConstant) parameters.Add(RoSpan + " b");
        parameters.Add(Span + " y");
        string left = b.Left.IsConstant ? "ca" : "a", right = b.Right.IsConstant ? "cb" : "b";

        w.Line("/// <summary>" + Escape.XmlDoc(b.Name) + ": " + b.Operator + " of " + Describe(b.Left) + " and " + Describe(b.Right) + " -> " + Shape.Format(output) + ".</summary>");
        using (w.Block("private static void " + method + "(" + string.Join(", ", parameters) + ")"))
        {
            if (b.Left.IsConstant && b.Left.Length > 1) w.Line(RoSpan + " " + left + " = " + method + "_A;");
            if (b.Right.IsConstant && b.Right.Length > 1) w.Line(RoSpan + " " + right + " = " + method + "_B;");
            bool flat = (b.Left.Length == 1 || Same(b.Left.Shape, output)) && (b.Right.Length == 1 || Same(b.Right.Shape, output));
            string? vectorOp = b.Kind switch
            {
                BinaryKind.Add => "+",
                BinaryKind.Sub => "-",
                BinaryKind.Mul => "*",
                BinaryKind.Div => "/",
                _ => b.Right.IsConstant && b.Right.Length == 1 && b.Right.Constant![0] == 2f ? "square" : null,
            };
            if (flat && vectorOp is not null && b.OutputLength >= 8)
            {
                // Whole vectors, then the last few values one at a time.
                const string Mm = "global::System.Runtime.InteropServices.MemoryMarshal";
                string VectorOf(Operand o, string name) => o.Length == 1
                    ? V + ".Create(" + Element(o, name, "0") + ")"
                    : V + ".LoadUnsafe(ref " + name + "Start, i)";
                w.Line("if (y.Length < " + b.OutputLength + (b.Left.IsConstant || b.Left.Length == 1 ? "" : " || a.Length < " + b.OutputLength) + (b.Right.IsConstant || b.Right.Length == 1 ? "" : " || b.Length < " + b.OutputLength) + ") throw new global::System.ArgumentException(\"A layer buffer is too short.\");");
                if (b.Left.Length > 1) w.Line("ref float " + left + "Start = ref " + Mm + ".GetReference(" + left + ");");
                if (b.Right.Length > 1 && vectorOp != "square") w.Line("ref float " + right + "Start = ref " + Mm + ".GetReference(" + right + ");");
                w.Line("ref float yStart = ref " + Mm + ".GetReference(y);");
                int whole = b.OutputLength / 8 * 8;
                using (w.Block("for (nuint i = 0; i < " + whole + "; i += 8)"))
                {
                    if (vectorOp == "square")
                    {
                        w.Line(V + "<float> v = " + VectorOf(b.Left, left) + ";");
                        w.Line(V + ".StoreUnsafe(v * v, ref yStart, i);");
                    }
                    else
                    {
                        w.Line(V + ".StoreUnsafe(" + VectorOf(b.Left, left) + " " + vectorOp + " " + VectorOf(b.Right, right) + ", ref yStart, i);");
                    }
                }
                if (whole < b.OutputLength)
                    w.Line("for (int i = " + whole + "; i < " + b.OutputLength + "; i++) y[i] = " + Combine(Element(b.Left, left, "i"), Element(b.Right, right, "i")) + ";");
            }
            else if (flat)
            {
                w.Line("for (int i = 0; i < " + b.OutputLength + "; i++) y[i] = " + Combine(Element(b.Left, left, "i"), Element(b.Right, right, "i")) + ";");
            }
            else
            {
                int[] ls = BroadcastStrides(b.Left.Shape, output), rs = BroadcastStrides(b.Right.Shape, output);
                var blocks = new List<IDisposable>();
                for (int d = 0; d < output.Length; d++) blocks.Add(w.Block("for (int i" + d + " = 0; i" + d + " < " + output[d] + "; i" + d + "++)"));
                string Index(int[] strides) => string.Join(" + ", Enumerable.Range(0, output.Length).Where(d => strides[d] != 0).Select(d => "i" + d + " * " + strides[d]).DefaultIfEmpty("0"));
                int[] outStrides = BroadcastStrides(output, output);
                w.Line("y[" + Index(outStrides) + "] = " + Combine(Element(b.Left, left, Index(ls)), Element(b.Right, right, Index(rs))) + ";");
                for (int i = blocks.Count - 1; i >= 0; i--) blocks[i].Dispose();
            }
        }
        if (b.Left.IsConstant && b.Left.Length > 1) w.Line("private static " + RoSpan + " " + method + "_A => " + Literals.FloatArray(b.Left.Constant!) + ";");
        if (b.Right.IsConstant && b.Right.Length > 1) w.Line("private static " + RoSpan + " " + method + "_B => " + Literals.FloatArray(b.Right.Constant!) + ";");
    }

    private static string Describe(Operand o) => (o.IsConstant ? (o.Length == 1 ? "the constant " + Literals.Float(o.Constant![0]) : "a constant ") : "a value ") + (o.Length == 1 ? "" : Shape.Format(o.Shape));

    private static bool Same(int[] a, int[] b) => a.Length == b.Length && a.SequenceEqual(b);

    /// <summary>An operand's strides over the output's axes (aligned from the right), 0 where it is broadcast.</summary>
    private static int[] BroadcastStrides(int[] shape, int[] output)
    {
        var strides = new int[output.Length];
        int stride = 1;
        for (int d = output.Length - 1; d >= 0; d--)
        {
            int own = d - (output.Length - shape.Length);
            if (own < 0) continue;
            strides[d] = shape[own] == 1 ? 0 : stride;
            stride *= shape[own];
        }
        return strides;
    }

    /// <summary>
    /// Layer normalization, two passes (the mean, then the squared deviations) as ONNX Runtime computes it rather
    /// than E[x²] − mean². Rows of whole vectors go 8 values at a time.
    /// </summary>
    private static void WriteLayerNorm(SourceWriter w, LayerNormLayer n, string method)
    {
        w.Line("/// <summary>" + Escape.XmlDoc(n.Name) + ": layer normalization of " + n.Rows + " rows of " + n.Length + ", epsilon " + Literals.Float(n.Epsilon) + ".</summary>");
        using (w.Block("private static void " + method + "(" + RoSpan + " x, " + Span + " y)"))
        {
            if (n.Length % 8 == 0)
            {
                const string Mm = "global::System.Runtime.InteropServices.MemoryMarshal";
                w.Line("if (x.Length < " + n.InputLength + " || y.Length < " + n.InputLength + ") throw new global::System.ArgumentException(\"A layer buffer is too short.\");");
                w.Line("ref float source = ref " + Mm + ".GetReference(x);");
                w.Line("ref float target = ref " + Mm + ".GetReference(y);");
                w.Line("ref float gamma = ref " + Mm + ".GetReference(" + method + "_Gamma);");
                w.Line("ref float beta = ref " + Mm + ".GetReference(" + method + "_Beta);");
                using (w.Block("for (int r = 0; r < " + n.Rows + "; r++)"))
                {
                    w.Line("nuint row = (nuint)(r * " + n.Length + ");");
                    w.Line(V + "<float> total = " + V + "<float>.Zero;");
                    w.Line("for (nuint i = 0; i < " + n.Length + "; i += 8) total += " + V + ".LoadUnsafe(ref source, row + i);");
                    w.Line(V + "<float> mean = " + V + ".Create(" + V + ".Sum(total) * " + Literals.Float(1f / n.Length) + ");");
                    w.Line(V + "<float> squares = " + V + "<float>.Zero;");
                    w.Line("for (nuint i = 0; i < " + n.Length + "; i += 8) { " + V + "<float> d = " + V + ".LoadUnsafe(ref source, row + i) - mean; squares = " + "global::Qtaml.Numerics.VectorMath.MultiplyAdd(d, d, squares); }");
                    w.Line(V + "<float> inverse = " + V + ".Create(1f / global::System.MathF.Sqrt(" + V + ".Sum(squares) * " + Literals.Float(1f / n.Length) + " + " + Literals.Float(n.Epsilon) + "));");
                    w.Line("for (nuint i = 0; i < " + n.Length + "; i += 8) " + V + ".StoreUnsafe(" + "global::Qtaml.Numerics.VectorMath.MultiplyAdd((" + V + ".LoadUnsafe(ref source, row + i) - mean) * inverse, " + V + ".LoadUnsafe(ref gamma, i), " + V + ".LoadUnsafe(ref beta, i)), ref target, row + i);");
                }
            }
            else
            {
                w.Line(RoSpan + " gamma = " + method + "_Gamma;");
                w.Line(RoSpan + " beta = " + method + "_Beta;");
                using (w.Block("for (int r = 0; r < " + n.Rows + "; r++)"))
                {
                    w.Line(RoSpan + " row = x.Slice(r * " + n.Length + ", " + n.Length + ");");
                    w.Line(Span + " result = y.Slice(r * " + n.Length + ", " + n.Length + ");");
                    w.Line("float mean = 0f;");
                    w.Line("for (int i = 0; i < " + n.Length + "; i++) mean += row[i];");
                    w.Line("mean *= " + Literals.Float(1f / n.Length) + ";");
                    w.Line("float variance = 0f;");
                    w.Line("for (int i = 0; i < " + n.Length + "; i++) { float d = row[i] - mean; variance += d * d; }");
                    w.Line("float inverse = 1f / global::System.MathF.Sqrt(variance * " + Literals.Float(1f / n.Length) + " + " + Literals.Float(n.Epsilon) + ");");
                    w.Line("for (int i = 0; i < " + n.Length + "; i++) result[i] = (row[i] - mean) * inverse * gamma[i] + beta[i];");
                }
            }
        }
        w.Line("private static " + RoSpan + " " + method + "_Gamma => " + Literals.FloatArray(n.Gamma) + ";");
        w.Line("private static " + RoSpan + " " + method + "_Beta => " + Literals.FloatArray(n.Beta) + ";");
    }

    /// <summary>
    /// Where the vectors covering <paramref name="length"/> ≥ 8 values start: every whole 8, then, when the length is
    /// not whole vectors, one more that ends at the last value and overlaps the one before. Computing a value twice
    /// in the same order gives the same bits, so storing the overlap twice is harmless.
    /// </summary>
    private static List<int> VectorStarts(int length)
    {
        List<int> starts = Enumerable.Range(0, length / 8).Select(v => v * 8).ToList();
        if (length % 8 != 0) starts.Add(length - 8);
        return starts;
    }

    /// <summary>
    /// A product of two computed values (attention scores, attention mixing). With 8 or more output columns each
    /// output row is accumulated in registers: every left value is broadcast and multiply-added with the right
    /// row's vectors. Columns that are not whole vectors end with a vector overlapping the one before, which
    /// computes the overlapping columns in the same order and so stores the same values.
    /// </summary>
    private static void WriteMatMul(SourceWriter w, MatMulLayer m, string method)
    {
        w.Line("/// <summary>" + Escape.XmlDoc(m.Name) + ": " + m.Batch + " product(s) of [" + m.M + " x " + m.K + "] by [" + m.K + " x " + m.N + "] computed values.</summary>");
        using (w.Block("private static void " + method + "(" + RoSpan + " a, " + RoSpan + " b, " + Span + " y)"))
        {
            if (m.N < 8)
            {
                WriteSmallMatMul(w, m);
                return;
            }
            List<int> columns = VectorStarts(m.N);
            long rightLength = m.RightIsShared ? (long)m.K * m.N : (long)m.Batch * m.K * m.N;
            w.Line("if (a.Length < " + ((long)m.Batch * m.M * m.K) + " || b.Length < " + rightLength + " || y.Length < " + m.OutputLength + ") throw new global::System.ArgumentException(\"A layer buffer is too short.\");");
            w.Line("ref float left = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(a);");
            w.Line("ref float right = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(b);");
            w.Line("ref float result = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y);");
            using (w.Block("for (int batch = 0; batch < " + m.Batch + "; batch++)"))
            {
                w.Line("nuint rightStart = " + (m.RightIsShared ? "0" : "(nuint)(batch * " + (m.K * m.N) + ")") + ";");
                using (w.Block("for (int i = 0; i < " + m.M + "; i++)"))
                {
                    w.Line("nuint leftRow = (nuint)((batch * " + m.M + " + i) * " + m.K + "), resultRow = (nuint)((batch * " + m.M + " + i) * " + m.N + ");");
                    for (int start = 0; start < columns.Count; start += MaxOutputVectors)
                    {
                        List<int> group = columns.Skip(start).Take(MaxOutputVectors).ToList();
                        using (w.Block("// columns " + group[0] + " to " + (group[group.Count - 1] + 8) + ", " + group.Count + " vector(s) in registers"))
                        {
                            w.Line(string.Join(" ", group.Select((_, g) => V + "<float> acc" + g + " = default;")));
                            using (w.Block("for (int k = 0; k < " + m.K + "; k++)"))
                            {
                                w.Line(V + "<float> broadcast = " + V + ".Create(global::System.Runtime.CompilerServices.Unsafe.Add(ref left, leftRow + (nuint)k));");
                                w.Line("nuint at = rightStart + (nuint)(k * " + m.N + ");");
                                for (int g = 0; g < group.Count; g++)
                                    w.Line("acc" + g + " = " + "global::Qtaml.Numerics.VectorMath.MultiplyAdd(" + V + ".LoadUnsafe(ref right, at + " + group[g] + "), broadcast, acc" + g + ");");
                            }
                            for (int g = 0; g < group.Count; g++) w.Line(V + ".StoreUnsafe(acc" + g + ", ref result, resultRow + " + group[g] + ");");
                        }
                    }
                }
            }
        }
    }

    /// <summary>Fewer than 8 output columns: plain loops.</summary>
    private static void WriteSmallMatMul(SourceWriter w, MatMulLayer m)
    {
        w.Line("y.Slice(0, " + m.OutputLength + ").Clear();");
        using (w.Block("for (int batch = 0; batch < " + m.Batch + "; batch++)"))
        {
            w.Line(RoSpan + " left = a.Slice(batch * " + (m.M * m.K) + ", " + (m.M * m.K) + ");");
            w.Line(RoSpan + " right = b.Slice(" + (m.RightIsShared ? "0" : "batch * " + (m.K * m.N)) + ", " + (m.K * m.N) + ");");
            w.Line(Span + " result = y.Slice(batch * " + (m.M * m.N) + ", " + (m.M * m.N) + ");");
            using (w.Block("for (int i = 0; i < " + m.M + "; i++)"))
            using (w.Block("for (int k = 0; k < " + m.K + "; k++)"))
            {
                w.Line("float v = left[i * " + m.K + " + k];");
                w.Line("for (int j = 0; j < " + m.N + "; j++) result[i * " + m.N + " + j] += v * right[k * " + m.N + " + j];");
            }
        }
    }

    private static void WriteTranspose(SourceWriter w, TransposeLayer t, string method)
    {
        int[] input = t.InputShape, output = t.OutputShape;
        int[] inStrides = BroadcastStrides(input, input);
        w.Line("/// <summary>" + Escape.XmlDoc(t.Name) + ": Transpose " + Shape.Format(input) + " -> " + Shape.Format(output) + ", axes (" + string.Join(", ", t.Perm) + ").</summary>");
        using (w.Block("private static void " + method + "(" + RoSpan + " x, " + Span + " y)"))
        {
            int last = output.Length - 1;
            if (last > 0 && t.Perm[last] == last && output[last] >= 4)
            {
                // The last axis stays where it is: copy whole runs of it.
                int run = output[last];
                w.Line("int o = 0;");
                var outer = new List<IDisposable>();
                for (int d = 0; d < last; d++) outer.Add(w.Block("for (int i" + d + " = 0; i" + d + " < " + output[d] + "; i" + d + "++)"));
                w.Line("x.Slice(" + string.Join(" + ", Enumerable.Range(0, last).Select(d => "i" + d + " * " + inStrides[t.Perm[d]])) + ", " + run + ").CopyTo(y.Slice(o, " + run + "));");
                w.Line("o += " + run + ";");
                for (int i = outer.Count - 1; i >= 0; i--) outer[i].Dispose();
                return;
            }
            // Element by element; both lengths are checked once, so the loop reads and writes without bounds tests.
            w.Line("if (x.Length < " + t.InputLength + " || y.Length < " + t.OutputLength + ") throw new global::System.ArgumentException(\"A layer buffer is too short.\");");
            w.Line("ref float source = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);");
            w.Line("ref float target = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y);");
            w.Line("nuint o = 0;");
            var blocks = new List<IDisposable>();
            for (int d = 0; d < output.Length; d++) blocks.Add(w.Block("for (nuint i" + d + " = 0; i" + d + " < " + output[d] + "; i" + d + "++)"));
            w.Line("global::System.Runtime.CompilerServices.Unsafe.Add(ref target, o++) = global::System.Runtime.CompilerServices.Unsafe.Add(ref source, " + string.Join(" + ", Enumerable.Range(0, output.Length).Select(d => "i" + d + " * " + inStrides[t.Perm[d]])) + ");");
            for (int i = blocks.Count - 1; i >= 0; i--) blocks[i].Dispose();
        }
    }

    private static void WriteReduceMean(SourceWriter w, ReduceMeanLayer r, string method)
    {
        w.Line("/// <summary>" + Escape.XmlDoc(r.Name) + ": the mean over axis " + r.Axis + " of " + Shape.Format(r.InputShape) + " (" + r.Reduced + " values each).</summary>");
        using (w.Block("private static void " + method + "(" + RoSpan + " x, " + Span + " y)"))
        {
            if (r.Inner >= 8)
            {
                // Eight inner positions at a time, summed over the reduced axis in the same order as one at a time;
                // a last vector overlapping the one before recomputes the same sums.
                List<int> starts = VectorStarts(r.Inner);
                w.Line("if (x.Length < " + r.InputLength + " || y.Length < " + r.OutputLength + ") throw new global::System.ArgumentException(\"A layer buffer is too short.\");");
                w.Line("ref float source = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);");
                w.Line("ref float target = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y);");
                using (w.Block("for (int o = 0; o < " + r.Outer + "; o++)"))
                    foreach (int start in starts)
                        using (w.Block("// positions " + start + " to " + (start + 8)))
                        {
                            w.Line(V + "<float> sum = " + V + "<float>.Zero;");
                            w.Line("for (int k = 0; k < " + r.Reduced + "; k++) sum += " + V + ".LoadUnsafe(ref source, (nuint)((o * " + r.Reduced + " + k) * " + r.Inner + " + " + start + "));");
                            w.Line(V + ".StoreUnsafe(sum * " + V + ".Create(" + Literals.Float(1f / r.Reduced) + "), ref target, (nuint)(o * " + r.Inner + " + " + start + "));");
                        }
                return;
            }
            w.Line("y.Slice(0, " + r.OutputLength + ").Clear();");
            using (w.Block("for (int o = 0; o < " + r.Outer + "; o++)"))
            using (w.Block("for (int k = 0; k < " + r.Reduced + "; k++)"))
            using (w.Block("for (int i = 0; i < " + r.Inner + "; i++)"))
                w.Line("y[o * " + r.Inner + " + i] += x[(o * " + r.Reduced + " + k) * " + r.Inner + " + i];");
            w.Line("for (int i = 0; i < " + r.OutputLength + "; i++) y[i] *= " + Literals.Float(1f / r.Reduced) + ";");
        }
    }

    private static void WriteConcat(SourceWriter w, ConcatLayer c, string method)
    {
        var parameters = new List<string>();
        int valueIndex = 0;
        var sources = new List<string>();
        foreach (Operand part in c.Parts)
        {
            if (part.IsConstant)
            {
                sources.Add(method + "_Part" + sources.Count);
            }
            else
            {
                parameters.Add(RoSpan + " x" + valueIndex);
                sources.Add("x" + valueIndex++);
            }
        }
        parameters.Add(Span + " y");
        int total = c.Parts.Sum(c.Chunk);
        w.Line("/// <summary>" + Escape.XmlDoc(c.Name) + ": Concat of " + string.Join(", ", c.Parts.Select(Describe)) + " along axis " + c.Axis + ".</summary>");
        using (w.Block("private static void " + method + "(" + string.Join(", ", parameters) + ")"))
        using (w.Block("for (int o = 0; o < " + c.Outer + "; o++)"))
        {
            int at = 0;
            for (int p = 0; p < c.Parts.Length; p++)
            {
                int chunk = c.Chunk(c.Parts[p]);
                string source = c.Parts[p].IsConstant ? "((" + RoSpan + ")" + sources[p] + ")" : sources[p];
                w.Line(source + ".Slice(o * " + chunk + ", " + chunk + ").CopyTo(y.Slice(o * " + total + " + " + at + ", " + chunk + "));");
                at += chunk;
            }
        }
        for (int p = 0; p < c.Parts.Length; p++)
            if (c.Parts[p].IsConstant) w.Line("private static " + RoSpan + " " + sources[p] + " => " + Literals.FloatArray(c.Parts[p].Constant!) + ";");
    }

    /// <summary>An embedding: each picked row dequantized (or copied) into place.</summary>
    private static void WriteEmbedding(SourceWriter w, ModelPlan plan, EmbeddingLayer e, string method)
    {
        w.Line("/// <summary>" + Escape.XmlDoc(e.Name) + ": rows of a " + e.Channels + " x " + e.Width + " embedding table at " + e.Indices.Length + " baked indices.</summary>");
        if (!plan.IsQuantized)
        {
            using (w.Block("private static void " + method + "(" + Span + " y)"))
            {
                w.Line(RoSpan + " table = " + method + "_Table;");
                w.Line("global::System.ReadOnlySpan<int> indices = " + method + "_Indices;");
                w.Line("for (int t = 0; t < " + e.Indices.Length + "; t++) table.Slice(indices[t] * " + e.Width + ", " + e.Width + ").CopyTo(y.Slice(t * " + e.Width + ", " + e.Width + "));");
            }
            w.Line("private static " + RoSpan + " " + method + "_Table => " + Literals.FloatArray(e.Weights) + ";");
        }
        else
        {
            QuantizedLayer q = Quantized(plan, e);
            using (w.Block("private static void " + method + "(global::System.ReadOnlySpan<byte> w, " + Span + " y)"))
            {
                w.Line(CodeSpan(plan));
                w.Line(RoSpan + " scale = " + method + "_Scale;");
                w.Line("global::System.ReadOnlySpan<int> indices = " + method + "_Indices;");
                using (w.Block("for (int t = 0; t < " + e.Indices.Length + "; t++)"))
                {
                    w.Line("int row = indices[t];");
                    w.Line("for (int i = 0; i < " + e.Width + "; i++) y[t * " + e.Width + " + i] = scale[row] * (" + CodeRead(plan, "row * " + e.Width + " + i")
                        + (q.CodeOffset != 0 ? " + " + Literals.Float(q.CodeOffset) : "") + ");");
                }
            }
            w.Line("private static " + RoSpan + " " + method + "_Scale => " + Literals.FloatArray(q.ChannelScales) + ";");
        }
        w.Line("private static global::System.ReadOnlySpan<int> " + method + "_Indices => new int[] { " + string.Join(", ", e.Indices.Select(i => Literals.Int(i))) + " };");
    }
}
