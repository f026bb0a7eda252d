using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Lowering;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Emit.Kernels;

/// <summary>
/// Element-wise operators. They run over the value as stored, so the same loop serves planes and channels-last
/// values (the padding slots compute something harmless that no reader looks at). Whole vectors first, then the
/// last values one at a time.
/// </summary>
internal static class ElementwiseKernels
{
    public static void WriteRelu(SourceWriter w, KernelContext k, Step step, Layer layer)
    {
        int n = k.Value(step.Output).StoredLength;
        w.Line("/// <summary>" + Escape.XmlDoc(layer.Name) + ": max(x, 0) over " + n + " values.</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> x, Span<float> y)"))
            WriteMap(w, n, (v, x) => v.Type + ".Max(" + x + ", " + v.Zero + ")", "MathF.Max(0f, x[i])");
        w.Line();
    }

    /// <summary>
    /// A loop over <paramref name="n"/> values: <paramref name="vector"/> of the vector at i (loaded once into a
    /// local whose name it is given), then <paramref name="scalar"/> of x[i] for the rest.
    /// </summary>
    private static void WriteMap(SourceWriter w, int n, Func<VectorWidth, string, string>? vector, string scalar, bool wide = true)
    {
        w.Line(KernelContext.LengthCheck(("x", n), ("y", n)));
        w.Line("int i = 0;");
        if (vector is not null && n >= 4)
        {
            w.Line("ref float from = ref MemoryMarshal.GetReference(x);");
            w.Line("ref float to = ref MemoryMarshal.GetReference(y);");
            VectorWidth.Dispatch(w, v =>
            {
                int whole = n / v.Lanes * v.Lanes;
                if (whole == 0) return;
                using (w.Block("for (; i < " + whole + "; i += " + v.Lanes + ")"))
                {
                    w.Line(v.Floats + " value = " + v.Load("from", "(nuint)i") + ";");
                    w.Line(v.Store(vector(v, "value"), "to", "(nuint)i"));
                }
            }, wide);
        }
        w.Line("for (; i < " + n + "; i++) y[i] = " + scalar + ";");
    }

    public static void WriteUnary(SourceWriter w, KernelContext k, Step step, UnaryLayer u)
    {
        int n = k.Value(step.Output).StoredLength;
        string alpha = Literals.Float(u.Alpha), beta = Literals.Float(u.Beta);
        string scalar = u.Kind switch
        {
            UnaryKind.Erf => "SpecialFunctions.Erf(x[i])",
            UnaryKind.Gelu => "SpecialFunctions.Gelu(x[i])",
            UnaryKind.Sqrt => "MathF.Sqrt(x[i])",
            UnaryKind.Tanh => "MathF.Tanh(x[i])",
            UnaryKind.Sigmoid => "1f / (1f + MathF.Exp(-x[i]))",
            UnaryKind.Exp => "MathF.Exp(x[i])",
            UnaryKind.Neg => "-x[i]",
            UnaryKind.Abs => "MathF.Abs(x[i])",
            UnaryKind.Log => "MathF.Log(x[i])",
            UnaryKind.LeakyRelu => "x[i] >= 0f ? x[i] : " + alpha + " * x[i]",
            UnaryKind.Elu => "x[i] > 0f ? x[i] : " + alpha + " * (MathF.Exp(x[i]) - 1f)",
            UnaryKind.Selu => beta + " * (x[i] > 0f ? x[i] : " + alpha + " * (MathF.Exp(x[i]) - 1f))",
            // max(x, 0) + ln(1 + e^−|x|): ln(1 + eˣ) without overflow for large x.
            UnaryKind.Softplus => "MathF.Max(x[i], 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(x[i])))",
            UnaryKind.Softsign => "x[i] / (1f + MathF.Abs(x[i]))",
            UnaryKind.HardSigmoid => "MathF.Max(0f, MathF.Min(1f, " + alpha + " * x[i] + " + beta + "))",
            UnaryKind.HardSwish => "x[i] * MathF.Max(0f, MathF.Min(1f, x[i] * " + Literals.Float(1f / 6) + " + 0.5f))",
            UnaryKind.Clip => ClipScalar(u),
            UnaryKind.Not => "x[i] == 0f ? 1f : 0f",
            UnaryKind.RoundToHalf => "(float)(Half)x[i]",
            _ => "1f / x[i]",
        };
        Func<VectorWidth, string, string>? vector = u.Kind switch
        {
            UnaryKind.Erf or UnaryKind.Gelu => (v, x) => "SpecialFunctions." + u.Kind + "(" + x + ")",
            UnaryKind.Sqrt => (v, x) => v.Type + ".Sqrt(" + x + ")",
            UnaryKind.Exp => (v, x) => "VectorMath.Exp(" + x + ")",
            UnaryKind.Sigmoid => (v, x) => v.Floats + ".One / (" + v.Floats + ".One + VectorMath.Exp(-" + x + "))",
            UnaryKind.Neg => (v, x) => "-" + x,
            UnaryKind.Abs => (v, x) => v.Type + ".Abs(" + x + ")",
            UnaryKind.Reciprocal => (v, x) => v.Floats + ".One / " + x,
            UnaryKind.LeakyRelu => (v, x) => v.Type + ".ConditionalSelect(" + v.Type + ".GreaterThanOrEqual(" + x + ", " + v.Zero + "), " + x + ", " + x + " * " + v.Splat(alpha) + ")",
            UnaryKind.Elu => (v, x) => v.Type + ".ConditionalSelect(" + v.Type + ".GreaterThan(" + x + ", " + v.Zero + "), " + x + ", " + v.Splat(alpha) + " * (VectorMath.Exp(" + x + ") - " + v.Floats + ".One))",
            UnaryKind.Selu => (v, x) => v.Splat(beta) + " * " + v.Type + ".ConditionalSelect(" + v.Type + ".GreaterThan(" + x + ", " + v.Zero + "), " + x + ", " + v.Splat(alpha) + " * (VectorMath.Exp(" + x + ") - " + v.Floats + ".One))",
            UnaryKind.Softsign => (v, x) => x + " / (" + v.Floats + ".One + " + v.Type + ".Abs(" + x + "))",
            UnaryKind.HardSigmoid => (v, x) => v.Type + ".Max(" + v.Zero + ", " + v.Type + ".Min(" + v.Floats + ".One, " + x + " * " + v.Splat(alpha) + " + " + v.Splat(beta) + "))",
            UnaryKind.HardSwish => (v, x) => x + " * " + v.Type + ".Max(" + v.Zero + ", " + v.Type + ".Min(" + v.Floats + ".One, " + x + " * " + v.Splat(Literals.Float(1f / 6)) + " + " + v.Splat("0.5f") + "))",
            UnaryKind.Clip => (v, x) => ClipVector(v, x, u),
            _ => null,   // tanh, log, softplus: no vectorized form on .NET 8
        };
        w.Line("/// <summary>" + Escape.XmlDoc(u.Name) + ": " + Describe(u) + ", element-wise over " + n + " values.</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> x, Span<float> y)"))
            // The exponentials and special functions have Vector128 and Vector256 forms only.
            WriteMap(w, n, vector, scalar, wide: u.Kind is not (UnaryKind.Erf or UnaryKind.Gelu or UnaryKind.Exp or UnaryKind.Sigmoid or UnaryKind.Elu or UnaryKind.Selu));
        w.Line();
    }

    /// <summary>The operator with its parameters, for the kernel's summary.</summary>
    private static string Describe(UnaryLayer u) => u.Kind switch
    {
        UnaryKind.LeakyRelu or UnaryKind.Elu => u.Operator + " (alpha " + Literals.Float(u.Alpha) + ")",
        UnaryKind.Selu => "Selu (alpha " + Literals.Float(u.Alpha) + ", gamma " + Literals.Float(u.Beta) + ")",
        UnaryKind.HardSigmoid => "HardSigmoid (alpha " + Literals.Float(u.Alpha) + ", beta " + Literals.Float(u.Beta) + ")",
        UnaryKind.Clip => "Clip to [" + Literals.Float(u.Alpha) + ", " + Literals.Float(u.Beta) + "]",
        _ => u.Operator,
    };

    /// <summary>Clip's bounds, leaving out an infinite one (ONNX: an absent bound is no bound).</summary>
    private static string ClipScalar(UnaryLayer u)
    {
        string x = "x[i]";
        if (!float.IsNegativeInfinity(u.Alpha)) x = "MathF.Max(" + x + ", " + Literals.Float(u.Alpha) + ")";
        if (!float.IsPositiveInfinity(u.Beta)) x = "MathF.Min(" + x + ", " + Literals.Float(u.Beta) + ")";
        return x;
    }

    private static string ClipVector(VectorWidth v, string x, UnaryLayer u)
    {
        if (!float.IsNegativeInfinity(u.Alpha)) x = v.Type + ".Max(" + x + ", " + v.Splat(Literals.Float(u.Alpha)) + ")";
        if (!float.IsPositiveInfinity(u.Beta)) x = v.Type + ".Min(" + x + ", " + v.Splat(Literals.Float(u.Beta)) + ")";
        return x;
    }

    /// <summary>
    /// Broadcasting as nested loops over the output's axes, each operand indexed with its own strides (0 on an
    /// axis it is broadcast along); equal shapes and scalars take one flat loop, vectorized for + − × ÷ and x².
    /// </summary>
    public static void WriteBinary(SourceWriter w, KernelContext k, Step step, BinaryLayer b)
    {
        string method = step.Method;
        int[] output = b.OutputShape;
        int n = k.Value(step.Output).StoredLength;
        bool square = b.Kind == BinaryKind.Pow && IsScalar(b.Right, 2f);
        string Element(Operand o, string name, string index) => o.Length == 1 ? (o.IsConstant ? Literals.Float(o.Constant![0]) : name + "[0]") : name + "[" + index + "]";
        string Combine(string l, string r) => b.Kind switch
        {
            BinaryKind.Add => l + " + " + r,
            BinaryKind.Sub => l + " - " + r,
            BinaryKind.Mul => l + " * " + r,
            BinaryKind.Div => l + " / " + r,
            BinaryKind.Max => "MathF.Max(" + l + ", " + r + ")",
            BinaryKind.Min => "MathF.Min(" + l + ", " + r + ")",
            BinaryKind.PRelu => l + " >= 0f ? " + l + " : " + l + " * " + r,
            BinaryKind.Equal => l + " == " + r + " ? 1f : 0f",
            BinaryKind.Greater => l + " > " + r + " ? 1f : 0f",
            BinaryKind.Less => l + " < " + r + " ? 1f : 0f",
            BinaryKind.GreaterOrEqual => l + " >= " + r + " ? 1f : 0f",
            BinaryKind.LessOrEqual => l + " <= " + r + " ? 1f : 0f",
            BinaryKind.And => l + " != 0f && " + r + " != 0f ? 1f : 0f",
            BinaryKind.Or => l + " != 0f || " + r + " != 0f ? 1f : 0f",
            BinaryKind.Xor => (l + " != 0f") + " != (" + r + " != 0f) ? 1f : 0f",
            _ => square ? l + " * " + l : IsScalar(b.Right, 0.5f) ? "MathF.Sqrt(" + l + ")" : "MathF.Pow(" + l + ", " + r + ")",
        };
        string Relu(string value, VectorWidth? v) => !step.FusedRelu ? value : v is null ? "MathF.Max(0f, " + value + ")" : v.Type + ".Max(" + value + ", " + v.Zero + ")";
        var parameters = new List<string>();
        if (!b.Left.IsConstant) parameters.Add("ReadOnlySpan<float> a");
        if (!b.Right.IsConstant) parameters.Add("ReadOnlySpan<float> b");
        parameters.Add("Span<float> y");
        string left = b.Left.IsConstant ? "ca" : "a", right = b.Right.IsConstant ? "cb" : "b";

        w.Line("/// <summary>" + Escape.XmlDoc(b.Name) + ": " + b.Operator + " of " + Describe(b.Left) + " and " + Describe(b.Right) + " -> " + Shape.Format(output) + (step.FusedRelu ? ", ReLU fused in" : "") + ".</summary>");
        using (w.Kernel("private static void " + method + "(" + string.Join(", ", parameters) + ")"))
        {
            if (b.Left.IsConstant && b.Left.Length > 1) w.Line("ReadOnlySpan<float> " + left + " = " + method + "_A;");
            if (b.Right.IsConstant && b.Right.Length > 1) w.Line("ReadOnlySpan<float> " + right + " = " + method + "_B;");
            bool flat = (b.Left.Length == 1 || Same(b.Left.Shape, output)) && (b.Right.Length == 1 || Same(b.Right.Shape, output));
            string? op = b.Kind switch
            {
                BinaryKind.Add => "+", BinaryKind.Sub => "-", BinaryKind.Mul => "*", BinaryKind.Div => "/",
                BinaryKind.Max => "Max", BinaryKind.Min => "Min", BinaryKind.PRelu => "PRelu",
                _ => square ? "square" : null,
            };
            if (flat && op is not null && n >= 4)
            {
                var checks = new List<(string, long)> { ("y", n) };
                if (!b.Left.IsConstant && b.Left.Length > 1) checks.Add(("a", n));
                if (!b.Right.IsConstant && b.Right.Length > 1) checks.Add(("b", n));
                w.Line(KernelContext.LengthCheck(checks.ToArray()));
                if (b.Left.Length > 1) w.Line("ref float " + left + "Start = ref MemoryMarshal.GetReference(" + left + ");");
                if (b.Right.Length > 1 && op != "square") w.Line("ref float " + right + "Start = ref MemoryMarshal.GetReference(" + right + ");");
                w.Line("ref float yStart = ref MemoryMarshal.GetReference(y);");
                w.Line("int i = 0;");
                VectorWidth.Dispatch(w, v =>
                {
                    string VectorOf(Operand o, string name) => o.Length == 1 ? v.Splat(Element(o, name, "0")) : v.Load(name + "Start", "(nuint)i");
                    int whole = n / v.Lanes * v.Lanes;
                    using (w.Block("for (; i < " + whole + "; i += " + v.Lanes + ")"))
                    {
                        if (op == "square")
                        {
                            w.Line(v.Floats + " value = " + VectorOf(b.Left, left) + ";");
                            w.Line(v.Store(Relu("value * value", v), "yStart", "(nuint)i"));
                        }
                        else if (op is "Max" or "Min")
                        {
                            w.Line(v.Store(Relu(v.Type + "." + op + "(" + VectorOf(b.Left, left) + ", " + VectorOf(b.Right, right) + ")", v), "yStart", "(nuint)i"));
                        }
                        else if (op == "PRelu")
                        {
                            w.Line(v.Floats + " value = " + VectorOf(b.Left, left) + ";");
                            w.Line(v.Store(Relu(v.Type + ".ConditionalSelect(" + v.Type + ".GreaterThanOrEqual(value, " + v.Zero + "), value, value * " + VectorOf(b.Right, right) + ")", v), "yStart", "(nuint)i"));
                        }
                        else
                        {
                            w.Line(v.Store(Relu(VectorOf(b.Left, left) + " " + op + " " + VectorOf(b.Right, right), v), "yStart", "(nuint)i"));
                        }
                    }
                }, wide: true);
                w.Line("for (; i < " + n + "; i++) y[i] = " + Relu(Combine(Element(b.Left, left, "i"), Element(b.Right, right, "i")), null) + ";");
            }
            else if (flat)
            {
                w.Line("for (int i = 0; i < " + n + "; i++) y[i] = " + Relu(Combine(Element(b.Left, left, "i"), Element(b.Right, right, "i")), null) + ";");
            }
            else
            {
                int[] ls = Shape.BroadcastStrides(b.Left.Shape, output), rs = Shape.BroadcastStrides(b.Right.Shape, output);
                var blocks = new List<IDisposable>();
                for (int d = 0; d < output.Length; d++) blocks.Add(w.Block("for (int i" + d + " = 0; i" + d + " < " + output[d] + "; i" + d + "++)"));
                string Index(int[] strides) => BroadcastIndex(strides);
                w.Line("y[" + Index(Shape.BroadcastStrides(output, output)) + "] = " + Relu(Combine(Element(b.Left, left, Index(ls)), Element(b.Right, right, Index(rs))), null) + ";");
                for (int i = blocks.Count - 1; i >= 0; i--) blocks[i].Dispose();
            }
        }
        if (b.Left.IsConstant && b.Left.Length > 1) w.Line("private static ReadOnlySpan<float> " + method + "_A => " + k.Data.FloatSpan(b.Left.Constant!) + ";");
        if (b.Right.IsConstant && b.Right.Length > 1) w.Line("private static ReadOnlySpan<float> " + method + "_B => " + k.Data.FloatSpan(b.Right.Constant!) + ";");
        w.Line();
    }

    /// <summary>Where: nested loops over the output's axes, each operand indexed with its own broadcast strides.</summary>
    public static void WriteWhere(SourceWriter w, KernelContext k, Step step, WhereLayer where)
    {
        string method = step.Method;
        int[] output = where.OutputShape;
        string[] names = { "c", "a", "b" };
        Operand[] operands = where.Operands;
        var parameters = operands.Select((o, i) => (o, i)).Where(p => !p.o.IsConstant).Select(p => "ReadOnlySpan<float> " + names[p.i]).Append("Span<float> y");
        w.Line("/// <summary>" + Escape.XmlDoc(where.Name) + ": Where of " + string.Join(", ", operands.Select(Describe)) + " -> " + Shape.Format(output) + ".</summary>");
        using (w.Kernel("private static void " + method + "(" + string.Join(", ", parameters) + ")"))
        {
            for (int i = 0; i < 3; i++)
                if (operands[i].IsConstant && operands[i].Length > 1) w.Line("ReadOnlySpan<float> " + names[i] + " = " + method + "_" + names[i].ToUpperInvariant() + ";");
            var blocks = new List<IDisposable>();
            for (int d = 0; d < output.Length; d++) blocks.Add(w.Block("for (int i" + d + " = 0; i" + d + " < " + output[d] + "; i" + d + "++)"));
            string Index(int[] strides) => BroadcastIndex(strides);
            string Element(int i) => operands[i].Length == 1
                ? operands[i].IsConstant ? Literals.Float(operands[i].Constant![0]) : names[i] + "[0]"
                : names[i] + "[" + Index(Shape.BroadcastStrides(operands[i].Shape, output)) + "]";
            w.Line("y[" + Index(Shape.BroadcastStrides(output, output)) + "] = " + Element(0) + " != 0f ? " + Element(1) + " : " + Element(2) + ";");
            for (int i = blocks.Count - 1; i >= 0; i--) blocks[i].Dispose();
        }
        for (int i = 0; i < 3; i++)
            if (operands[i].IsConstant && operands[i].Length > 1) w.Line("private static ReadOnlySpan<float> " + method + "_" + names[i].ToUpperInvariant() + " => " + k.Data.FloatSpan(operands[i].Constant!) + ";");
        w.Line();
    }

    /// <summary>The flat index, in nested loops i0, i1... over the output's axes, of an operand with these broadcast strides.</summary>
    private static string BroadcastIndex(int[] strides) =>
        string.Join(" + ", Enumerable.Range(0, strides.Length).Where(d => strides[d] != 0).Select(d => "i" + d + " * " + strides[d]).DefaultIfEmpty("0"));

    private static bool IsScalar(Operand o, float value) => o.IsConstant && o.Length == 1 && o.Constant![0] == value;

    public static string Describe(Operand o) => (o.IsConstant ? (o.Length == 1 ? "the constant " + Literals.Float(o.Constant![0]) : "a constant ") : "a value ") + (o.Length == 1 ? "" : Shape.Format(o.Shape));

    /// <summary>
    /// Whether an operand holds one value per output element in the output's order: broadcasting only repeats, so
    /// that is so exactly when the element counts agree (leading unit axes aside, the shapes are the same).
    /// </summary>
    private static bool Same(int[] operand, int[] output) => Shape.LongLength(operand) == Shape.LongLength(output);
}
