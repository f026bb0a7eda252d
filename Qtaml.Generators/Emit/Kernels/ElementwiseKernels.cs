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
    /// <summary>The shared method <c>Relu(x, y, n)</c>: y = max(x, 0) over n values, vectorized; its name.</summary>
    public static string UseRelu(KernelContext k) =>
        k.Helpers.Use("Relu", w => WriteSharedMap(w, "max(x, 0) over n values.", "", (v, x) => v.Type + ".Max(" + x + ", " + v.Zero + ")", "MathF.Max(0f, x[i])", wide: true));

    /// <summary>
    /// The call of the shared helper that computes <paramref name="step"/> (its arguments: the step's input spans in order
    /// and its output), registering the helper in <see cref="KernelContext.Helpers"/>; null when the step needs a kernel
    /// of its own (a broadcast over several axes). Every element-wise map is the same loop for any n and any constants, so
    /// one method per form serves every layer of that form.
    /// </summary>
    public static Func<IReadOnlyList<string>, string, string>? SharedCall(KernelContext k, Step step, Layer layer)
    {
        int n = k.Value(step.Output).StoredLength;
        switch (layer)
        {
            case ReluLayer:
            {
                string name = UseRelu(k);
                return (inputs, y) => name + "(" + inputs[0] + ", " + y + ", " + n + ")";
            }
            case UnaryLayer u:
            {
                (string parameters, string arguments) = UnaryParameters(u);
                string name = k.Helpers.Use(u.Kind == UnaryKind.Clip ? ClipName(u) : u.Kind.ToString(), w => WriteSharedMap(w, DescribeShared(u) + ", element-wise over n values.", parameters, UnaryVector(u), UnaryScalar(u),
                    // The exponentials and special functions have Vector128 and Vector256 forms only.
                    wide: u.Kind is not (UnaryKind.Erf or UnaryKind.Gelu or UnaryKind.Exp or UnaryKind.Sigmoid or UnaryKind.Elu or UnaryKind.Selu)));
                return (inputs, y) => name + "(" + inputs[0] + ", " + y + ", " + n + arguments + ")";
            }
            case BinaryLayer b when IsFlat(b):
                return SharedBinaryCall(k, step, AsComputed(b), n);
            default:
                return null;
        }
    }

    /// <summary>
    /// A helper's loop over n values: <paramref name="vector"/> of the vector at i (loaded once into a local whose name it
    /// is given), then <paramref name="scalar"/> of x[i] for the rest. <paramref name="parameters"/> follow x, y and n.
    /// </summary>
    private static void WriteSharedMap(SourceWriter w, string summary, string parameters, Func<VectorWidth, string, string>? vector, string scalar, bool wide)
    {
        w.Line("/// <summary>" + summary + "</summary>");
        using (w.Kernel("private static void " + SharedKernels.Placeholder + "(ReadOnlySpan<float> x, Span<float> y, int n" + parameters + ")"))
        {
            w.Line("if ((uint)x.Length < (uint)n || (uint)y.Length < (uint)n) throw new ArgumentException(\"A layer buffer is too short.\");");
            w.Line("int i = 0;");
            if (vector is not null)
            {
                w.Line("ref float from = ref MemoryMarshal.GetReference(x);");
                w.Line("ref float to = ref MemoryMarshal.GetReference(y);");
                VectorWidth.Dispatch(w, v =>
                {
                    using (w.Block("for (; i <= n - " + v.Lanes + "; i += " + v.Lanes + ")"))
                    {
                        w.Line(v.Floats + " value = " + v.Load("from", "(nuint)i") + ";");
                        w.Line(v.Store(vector(v, "value"), "to", "(nuint)i"));
                    }
                }, wide);
            }
            w.Line("for (; i < n; i++) y[i] = " + scalar + ";");
        }
    }

    /// <summary>The constants a unary helper takes after n (declarations, and this layer's values as arguments).</summary>
    private static (string Parameters, string Arguments) UnaryParameters(UnaryLayer u)
    {
        string alpha = Literals.Float(u.Alpha), beta = Literals.Float(u.Beta);
        return u.Kind switch
        {
            UnaryKind.LeakyRelu or UnaryKind.Elu => (", float alpha", ", " + alpha),
            UnaryKind.Selu => (", float alpha, float gamma", ", " + alpha + ", " + beta),
            UnaryKind.HardSigmoid => (", float alpha, float beta", ", " + alpha + ", " + beta),
            UnaryKind.Clip => ((float.IsNegativeInfinity(u.Alpha) ? "" : ", float min") + (float.IsPositiveInfinity(u.Beta) ? "" : ", float max"),
                (float.IsNegativeInfinity(u.Alpha) ? "" : ", " + alpha) + (float.IsPositiveInfinity(u.Beta) ? "" : ", " + beta)),
            _ => ("", ""),
        };
    }

    /// <summary>Clip's helper: both bounds, or only the one that is finite (ONNX: an absent bound is no bound).</summary>
    internal static string ClipName(UnaryLayer u) =>
        float.IsNegativeInfinity(u.Alpha) ? (float.IsPositiveInfinity(u.Beta) ? "ClipNone" : "ClipAbove") : float.IsPositiveInfinity(u.Beta) ? "ClipBelow" : "Clip";

    private static string UnaryScalar(UnaryLayer u) => u.Kind switch
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
        UnaryKind.LeakyRelu => "x[i] >= 0f ? x[i] : alpha * x[i]",
        UnaryKind.Elu => "x[i] > 0f ? x[i] : alpha * (MathF.Exp(x[i]) - 1f)",
        UnaryKind.Selu => "gamma * (x[i] > 0f ? x[i] : alpha * (MathF.Exp(x[i]) - 1f))",
        // max(x, 0) + ln(1 + e^−|x|): ln(1 + eˣ) without overflow for large x.
        UnaryKind.Softplus => "MathF.Max(x[i], 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(x[i])))",
        UnaryKind.Softsign => "x[i] / (1f + MathF.Abs(x[i]))",
        UnaryKind.HardSigmoid => "MathF.Max(0f, MathF.Min(1f, alpha * x[i] + beta))",
        UnaryKind.HardSwish => "x[i] * MathF.Max(0f, MathF.Min(1f, x[i] * " + Literals.Float(1f / 6) + " + 0.5f))",
        UnaryKind.Clip => ClipScalar(u),
        UnaryKind.Not => "x[i] == 0f ? 1f : 0f",
        UnaryKind.RoundToHalf => "(float)(Half)x[i]",
        _ => "1f / x[i]",
    };

    private static Func<VectorWidth, string, string>? UnaryVector(UnaryLayer u) => u.Kind switch
    {
        UnaryKind.Erf or UnaryKind.Gelu => (v, x) => "SpecialFunctions." + u.Kind + "(" + x + ")",
        UnaryKind.Sqrt => (v, x) => v.Type + ".Sqrt(" + x + ")",
        UnaryKind.Exp => (v, x) => "VectorMath.Exp(" + x + ")",
        UnaryKind.Sigmoid => (v, x) => v.Floats + ".One / (" + v.Floats + ".One + VectorMath.Exp(-" + x + "))",
        UnaryKind.Neg => (v, x) => "-" + x,
        UnaryKind.Abs => (v, x) => v.Type + ".Abs(" + x + ")",
        UnaryKind.Reciprocal => (v, x) => v.Floats + ".One / " + x,
        UnaryKind.LeakyRelu => (v, x) => v.Type + ".ConditionalSelect(" + v.Type + ".GreaterThanOrEqual(" + x + ", " + v.Zero + "), " + x + ", " + x + " * " + v.Splat("alpha") + ")",
        UnaryKind.Elu => (v, x) => v.Type + ".ConditionalSelect(" + v.Type + ".GreaterThan(" + x + ", " + v.Zero + "), " + x + ", " + v.Splat("alpha") + " * (VectorMath.Exp(" + x + ") - " + v.Floats + ".One))",
        UnaryKind.Selu => (v, x) => v.Splat("gamma") + " * " + v.Type + ".ConditionalSelect(" + v.Type + ".GreaterThan(" + x + ", " + v.Zero + "), " + x + ", " + v.Splat("alpha") + " * (VectorMath.Exp(" + x + ") - " + v.Floats + ".One))",
        UnaryKind.Softsign => (v, x) => x + " / (" + v.Floats + ".One + " + v.Type + ".Abs(" + x + "))",
        UnaryKind.HardSigmoid => (v, x) => v.Type + ".Max(" + v.Zero + ", " + v.Type + ".Min(" + v.Floats + ".One, " + x + " * " + v.Splat("alpha") + " + " + v.Splat("beta") + "))",
        UnaryKind.HardSwish => (v, x) => x + " * " + v.Type + ".Max(" + v.Zero + ", " + v.Type + ".Min(" + v.Floats + ".One, " + x + " * " + v.Splat(Literals.Float(1f / 6)) + " + " + v.Splat("0.5f") + "))",
        UnaryKind.Clip => (v, x) => ClipVector(v, x, u),
        _ => null,   // tanh, log, softplus: no vectorized form on .NET 8
    };

    /// <summary>A unary helper's operator, its constants named as its parameters.</summary>
    private static string DescribeShared(UnaryLayer u) => u.Kind switch
    {
        UnaryKind.LeakyRelu or UnaryKind.Elu => u.Operator + " (slope alpha)",
        UnaryKind.Selu => "Selu (alpha, gamma)",
        UnaryKind.HardSigmoid => "HardSigmoid, max(0, min(1, alpha·x + beta))",
        UnaryKind.Clip => ClipName(u) switch { "Clip" => "Clip to [min, max]", "ClipBelow" => "Clip to [min, ∞)", "ClipAbove" => "Clip to (−∞, max]", _ => "Clip with no bounds (a copy)" },
        _ => u.Operator,
    };

    /// <summary>Clip's bounds, leaving out an infinite one (ONNX: an absent bound is no bound).</summary>
    private static string ClipScalar(UnaryLayer u)
    {
        string x = "x[i]";
        if (!float.IsNegativeInfinity(u.Alpha)) x = "MathF.Max(" + x + ", min)";
        if (!float.IsPositiveInfinity(u.Beta)) x = "MathF.Min(" + x + ", max)";
        return x;
    }

    private static string ClipVector(VectorWidth v, string x, UnaryLayer u)
    {
        if (!float.IsNegativeInfinity(u.Alpha)) x = v.Type + ".Max(" + x + ", " + v.Splat("min") + ")";
        if (!float.IsPositiveInfinity(u.Beta)) x = v.Type + ".Min(" + x + ", " + v.Splat("max") + ")";
        return x;
    }

    /// <summary>
    /// The operator as the kernels compute it: a division by one constant c is a multiplication by 1/c (a vector
    /// division costs ten or more multiplications' time: PP-LCNetV3's hardswish blocks divide every activation by 6),
    /// within one rounding of the quotient, and exactly it where c is a power of two. Every other operator as it is.
    /// The fused and unfused kernels both take this form, so they compute the same bits.
    /// </summary>
    public static BinaryLayer AsComputed(BinaryLayer b)
    {
        if (b.Kind != BinaryKind.Div || !b.Right.IsConstant || b.Right.Length != 1) return b;
        float reciprocal = 1f / b.Right.Constant![0];
        // A divisor of 0, ±∞ or NaN, or one whose reciprocal overflows or is subnormal, stays a division.
        if (float.IsNaN(reciprocal) || float.IsInfinity(reciprocal) || reciprocal == 0 || Math.Abs(reciprocal) < 1.17549435E-38f) return b;
        return new BinaryLayer(b.Name, BinaryKind.Mul, b.Left, Operand.OfConstant(new[] { reciprocal }, b.Right.Shape), b.OutputShape);
    }

    /// <summary>One element of a binary operator's result, from its operands' texts <paramref name="l"/> and <paramref name="r"/>.</summary>
    private static string ScalarCombine(BinaryLayer b, string l, string r) => b.Kind switch
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
        // Pow: x² as a product, x^0.5 as a square root, else MathF.Pow (the vector loop of x^c computes positive bases as e^(c·ln x)).
        _ => IsScalar(b.Right, 2f) ? l + " * " + l : IsScalar(b.Right, 0.5f) ? "MathF.Sqrt(" + l + ")" : "MathF.Pow(" + l + ", " + r + ")",
    };

    /// <summary>Whether a binary operator's operands are each one value or one per output element: one flat loop.</summary>
    private static bool IsFlat(BinaryLayer b) =>
        (b.Left.Length == 1 || Same(b.Left.Shape, b.OutputShape)) && (b.Right.Length == 1 || Same(b.Right.Shape, b.OutputShape));

    /// <summary>
    /// A flat binary operator as a shared helper: each operand a span of n values or one float (a constant, or a one-value
    /// input read when the step runs), vectorized for + − × ÷, max, min, PRelu, x² and x^c (c one value, bases positive); the comparisons and logic one
    /// value at a time. A constant operand of n values is the layer's own data (<c>_A</c>, <c>_B</c>, <see cref="WriteBinaryData"/>).
    /// </summary>
    private static Func<IReadOnlyList<string>, string, string> SharedBinaryCall(KernelContext k, Step step, BinaryLayer b, int n)
    {
        bool square = b.Kind == BinaryKind.Pow && IsScalar(b.Right, 2f);
        bool leftScalar = b.Left.Length == 1, rightScalar = b.Right.Length == 1;
        string Element(bool scalar, string name) => scalar ? name : name + "[i]";
        string Combine(string l, string r) => ScalarCombine(b, l, r);
        string Relu(string value, VectorWidth? v) => !step.FusedRelu ? value : v is null ? "MathF.Max(0f, " + value + ")" : v.Type + ".Max(" + value + ", " + v.Zero + ")";
        string? op = b.Kind switch
        {
            BinaryKind.Add => "+", BinaryKind.Sub => "-", BinaryKind.Mul => "*", BinaryKind.Div => "/",
            BinaryKind.Max => "Max", BinaryKind.Min => "Min", BinaryKind.PRelu => "PRelu",
            // x^c of one constant c: e^(c·ln x) a vector at a time where every base is positive and finite.
            BinaryKind.Pow when !square && !IsScalar(b.Right, 0.5f) && !leftScalar && rightScalar => "pow",
            _ => square ? "square" : null,
        };
        // x² and √x read only the left operand; x^0.5 is √x.
        bool usesRight = !square && !(b.Kind == BinaryKind.Pow && IsScalar(b.Right, 0.5f));
        string opName = square ? "Square" : b.Kind == BinaryKind.Pow && !usesRight ? "SquareRoot" : b.Kind switch
        {
            BinaryKind.Sub => "Subtract", BinaryKind.Mul => "Multiply", BinaryKind.Div => "Divide", BinaryKind.Max => "Maximum", BinaryKind.Min => "Minimum",
            _ => b.Kind.ToString(),
        };
        string name = (leftScalar ? "Scalar" : "") + opName + (usesRight && rightScalar ? "Scalar" : "") + (step.FusedRelu ? "ThenRelu" : "");
        string Parameter(bool scalar, string n) => scalar ? "float " + n : "ReadOnlySpan<float> " + n;
        string helper = k.Helpers.Use(name, w =>
        {
            w.Line("/// <summary>" + b.Operator + (square ? " (x²)" : "") + " of " + (leftScalar ? "a value" : "n values") + (usesRight ? " and " + (rightScalar ? "a value" : "n values") : "")
                + (step.FusedRelu ? ", ReLU fused in" : "") + ".</summary>");
            using (w.Kernel("private static void " + SharedKernels.Placeholder + "(" + Parameter(leftScalar, "a") + (usesRight ? ", " + Parameter(rightScalar, "b") : "") + ", Span<float> y, int n)"))
            {
                w.Line("if (" + (leftScalar ? "" : "(uint)a.Length < (uint)n || ") + (usesRight && !rightScalar ? "(uint)b.Length < (uint)n || " : "") + "(uint)y.Length < (uint)n) throw new ArgumentException(\"A layer buffer is too short.\");");
                w.Line("int i = 0;");
                if (op is not null)
                {
                    if (!leftScalar) w.Line("ref float aStart = ref MemoryMarshal.GetReference(a);");
                    if (usesRight && !rightScalar) w.Line("ref float bStart = ref MemoryMarshal.GetReference(b);");
                    w.Line("ref float yStart = ref MemoryMarshal.GetReference(y);");
                    VectorWidth.Dispatch(w, v =>
                    {
                        string VectorOf(bool scalar, string o) => scalar ? v.Splat(o) : v.Load(o + "Start", "(nuint)i");
                        using (w.Block("for (; i <= n - " + v.Lanes + "; i += " + v.Lanes + ")"))
                        {
                            if (op == "square")
                            {
                                w.Line(v.Floats + " value = " + VectorOf(leftScalar, "a") + ";");
                                w.Line(v.Store(Relu("value * value", v), "yStart", "(nuint)i"));
                            }
                            else if (op == "pow")
                            {
                                // Bases that are not all positive and finite (zeros, negatives, NaN, infinities) take
                                // MathF.Pow's own rules, value by value.
                                w.Line(v.Floats + " value = " + VectorOf(leftScalar, "a") + ";");
                                using (w.Block("if (" + v.Type + ".GreaterThanAll(value, " + v.Zero + ") && " + v.Type + ".LessThanAll(value, " + v.Splat("float.PositiveInfinity") + "))"))
                                    w.Line(v.Store(Relu("VectorMath.PowPositive(value, " + VectorOf(rightScalar, "b") + ")", v), "yStart", "(nuint)i"));
                                using (w.Block("else"))
                                    w.Line("for (int j = i; j < i + " + v.Lanes + "; j++) y[j] = " + Relu(Combine("a[j]", "b"), null) + ";");
                            }
                            else if (op is "Max" or "Min")
                                w.Line(v.Store(Relu(v.Type + "." + op + "(" + VectorOf(leftScalar, "a") + ", " + VectorOf(rightScalar, "b") + ")", v), "yStart", "(nuint)i"));
                            else if (op == "PRelu")
                            {
                                w.Line(v.Floats + " value = " + VectorOf(leftScalar, "a") + ";");
                                w.Line(v.Store(Relu(v.Type + ".ConditionalSelect(" + v.Type + ".GreaterThanOrEqual(value, " + v.Zero + "), value, value * " + VectorOf(rightScalar, "b") + ")", v), "yStart", "(nuint)i"));
                            }
                            else
                                w.Line(v.Store(Relu(VectorOf(leftScalar, "a") + " " + op + " " + VectorOf(rightScalar, "b"), v), "yStart", "(nuint)i"));
                        }
                    }, wide: true);
                }
                w.Line("for (; i < n; i++) y[i] = " + Relu(Combine(Element(leftScalar, "a"), Element(rightScalar, "b")), null) + ";");
            }
        });
        return (inputs, y) =>
        {
            int next = 0;
            string Argument(Operand o, string suffix)
            {
                if (o.IsConstant) return o.Length == 1 ? Literals.Float(o.Constant![0]) : step.Method + suffix;
                string span = inputs[next++];
                return o.Length == 1 ? span + "[0]" : span;
            }
            string a = Argument(b.Left, "_A");
            string bArgument = Argument(b.Right, "_B");
            return helper + "(" + a + (usesRight ? ", " + bArgument : "") + ", " + y + ", " + n + ")";
        };
    }

    /// <summary>A flat binary step's constant operands of n values, which its helper call passes.</summary>
    public static void WriteBinaryData(SourceWriter w, KernelContext k, Step step, BinaryLayer b)
    {
        if (b.Left.IsConstant && b.Left.Length > 1) w.Line("private static ReadOnlySpan<float> " + step.Method + "_A => " + k.Data.FloatSpan(b.Left.Constant!) + ";");
        if (b.Right.IsConstant && b.Right.Length > 1) w.Line("private static ReadOnlySpan<float> " + step.Method + "_B => " + k.Data.FloatSpan(b.Right.Constant!) + ";");
    }

    /// <summary>
    /// A binary operator that broadcasts along some axes: nested loops over the output's axes, each operand indexed with
    /// its own strides (0 on an axis it is broadcast along).
    /// </summary>
    public static void WriteBinary(SourceWriter w, KernelContext k, Step step, BinaryLayer b)
    {
        if (k.Value(step.Output).Layout == Layout.ChannelsLast)
        {
            WriteChannelsLastPerChannel(w, k, step, b);
            return;
        }
        string method = step.Method;
        int[] output = b.OutputShape;
        string Element(Operand o, string name, string index) => o.Length == 1 ? (o.IsConstant ? Literals.Float(o.Constant![0]) : name + "[0]") : name + "[" + index + "]";
        string Combine(string l, string r) => ScalarCombine(b, l, r);
        string Relu(string value) => step.FusedRelu ? "MathF.Max(0f, " + value + ")" : value;
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
            int[] ls = Shape.BroadcastStrides(b.Left.Shape, output), rs = Shape.BroadcastStrides(b.Right.Shape, output);
            var blocks = new List<IDisposable>();
            for (int d = 0; d < output.Length; d++) blocks.Add(w.Block("for (int i" + d + " = 0; i" + d + " < " + output[d] + "; i" + d + "++)"));
            string Index(int[] strides) => BroadcastIndex(strides);
            w.Line("y[" + Index(Shape.BroadcastStrides(output, output)) + "] = " + Relu(Combine(Element(b.Left, left, Index(ls)), Element(b.Right, right, Index(rs)))) + ";");
            for (int i = blocks.Count - 1; i >= 0; i--) blocks[i].Dispose();
        }
        WriteBinaryData(w, k, step, b);
        w.Line();
    }

    /// <summary>
    /// An image channels-last combined with one value per channel (<see cref="AssignLayouts.ScalesChannels"/>): the
    /// channel values copied once into a vector of the image's slots (zero in the padding), then at each position the
    /// channel vector and that vector combined a vector at a time.
    /// </summary>
    private static void WriteChannelsLastPerChannel(SourceWriter w, KernelContext k, Step step, BinaryLayer b)
    {
        ValueInfo image = k.Value(step.Output);
        int slots = image.ChannelSlots, channels = image.Channels, big = AssignLayouts.BigOperand(b);
        long positions = (long)image.Images * image.Positions;
        string imageName = big == 0 ? "a" : "b", channelName = big == 0 ? "b" : "a";
        string Relu(string value, VectorWidth v) => step.FusedRelu ? v.Type + ".Max(" + value + ", " + v.Zero + ")" : value;
        string op = b.Kind switch { BinaryKind.Mul => "*", BinaryKind.Add => "+", _ => "-" };
        w.Line("/// <summary>" + Escape.XmlDoc(b.Name) + ": " + b.Operator + " of " + Describe(b.Left) + " and " + Describe(b.Right) + " -> " + Shape.Format(b.OutputShape)
            + (step.FusedRelu ? ", ReLU fused in" : "") + "; channels-last with " + slots + " slots, one value per channel.</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)"))
        {
            w.Line(KernelContext.LengthCheck((imageName, positions * slots), (channelName, channels), ("y", positions * slots)));
            w.Line("// The channel values in a vector of the slots, zero in the padding.");
            w.Line(KernelContext.Scratch("perChannel", step.Method, slots));
            if (slots > channels) w.Line("perChannel.Slice(" + channels + ").Clear();");
            w.Line(channelName + ".Slice(0, " + channels + ").CopyTo(perChannel);");
            w.Line("ref float source = ref MemoryMarshal.GetReference(" + imageName + ");");
            w.Line("ref float channel = ref MemoryMarshal.GetReference(perChannel);");
            w.Line("ref float target = ref MemoryMarshal.GetReference(y);");
            VectorWidth.Dispatch(w, v =>
            {
                using (w.Block("for (nuint p = 0; p < " + positions * slots + "; p += " + slots + ")"))
                using (w.Block("for (nuint c = 0; c < " + slots + "; c += " + v.Lanes + ")"))
                {
                    string x = v.Load("source", "p + c"), s = v.Load("channel", "c");
                    w.Line(v.Store(Relu(big == 0 ? x + " " + op + " " + s : s + " " + op + " " + x, v), "target", "p + c"));
                }
            }, wide: slots % VectorWidth.V512.Lanes == 0);
        }
        KernelContext.WriteScratchField(w, "perChannel", step.Method, slots);
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
