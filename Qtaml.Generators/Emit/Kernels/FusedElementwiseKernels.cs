using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Qtaml.Generators.Lowering;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Emit.Kernels;

/// <summary>
/// A chain of element-wise operators fused into one step (<see cref="FuseElementwise"/>): one loop that loads each
/// input once, computes every operator of the chain in registers, in the chain's order and with the expressions the
/// unfused helpers use (so the same bits), and stores the last result. The chain's scalar constants are the helper's
/// parameters, so every chain of the same operators shares one helper (PP-LCNetV3's blocks: one for the network).
/// </summary>
internal static class FusedElementwiseKernels
{
    /// <summary>One operand of a chain operator: an input span (x0..), an earlier result (t0..) or a constant parameter (c0..).</summary>
    private readonly record struct Ref(char Kind, int Index)
    {
        public string Name => Kind.ToString() + Index.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>One operator of the chain: its operator name, operands and whether a ReLU follows it.</summary>
    private sealed record Op(string Name, Ref[] Operands)
    {
        public bool Relu { get; init; }
    }

    /// <summary>The call of the chain's helper, which it registers; the arguments are the step's input spans in order and its output.</summary>
    public static Func<IReadOnlyList<string>, string, string> Call(KernelContext k, Step step, NetworkGraph graph)
    {
        int n = k.Value(step.Output).StoredLength;
        var constants = new List<float>();
        var ops = new List<Op>();
        var temp = new Dictionary<int, int>();   // value → its t index
        List<int> external = step.Inputs.ToList();
        Ref Value(int value) => temp.TryGetValue(value, out int t) ? new Ref('t', t) : new Ref('x', external.IndexOf(value));
        Ref Constant(float c)
        {
            constants.Add(c);
            return new Ref('c', constants.Count - 1);
        }
        foreach (Step s in step.Chain)
        {
            Layer layer = graph.Layers[s.Layer];
            Op op = layer switch
            {
                ReluLayer => new Op("Relu", new[] { Value(s.Inputs[0]) }),
                UnaryLayer { Kind: UnaryKind.Clip } u => new Op(ElementwiseKernels.ClipName(u), new[] { Value(s.Inputs[0]) }
                    .Concat(float.IsNegativeInfinity(u.Alpha) ? Array.Empty<Ref>() : new[] { Constant(u.Alpha) })
                    .Concat(float.IsPositiveInfinity(u.Beta) ? Array.Empty<Ref>() : new[] { Constant(u.Beta) }).ToArray()),
                UnaryLayer { Kind: UnaryKind.HardSigmoid } u => new Op("HardSigmoid", new[] { Value(s.Inputs[0]), Constant(u.Alpha), Constant(u.Beta) }),
                UnaryLayer { Kind: UnaryKind.HardSwish } => new Op("HardSwish", new[] { Value(s.Inputs[0]) }),
                BinaryLayer b => Binary(b, s),
                _ => throw new InvalidOperationException("FuseElementwise fused a " + layer.Operator + " it cannot compute."),
            };
            ops.Add(op with { Relu = s.FusedRelu });
            temp[s.Output] = ops.Count - 1;
        }

        Op Binary(BinaryLayer b, Step s)
        {
            int next = 0;
            Ref Operand(Operand o) => o.IsConstant ? Constant(o.Constant![0]) : Value(s.Inputs[next++]);
            b = ElementwiseKernels.AsComputed(b);   // as the unfused helper computes it: ÷c as ×(1/c)
            Ref left = Operand(b.Left), right = Operand(b.Right);
            return new Op(b.Kind.ToString(), new[] { left, right });
        }

        int inputs = step.Inputs.Count;
        string name = k.Helpers.Use("Fused" + string.Concat(ops.Select(o => o.Name + (o.Relu ? "Relu" : ""))), w => Write(w, ops, inputs, constants.Count));
        string literals = string.Concat(constants.Select(c => ", " + Literals.Float(c)));
        return (spans, y) => name + "(" + string.Join(", ", spans) + ", " + y + ", " + n + literals + ")";
    }

    /// <summary>The chain in words for a comment: "t0 = x0 × c0, t1 = t0 + c1, ...".</summary>
    private static string Describe(IReadOnlyList<Op> ops) =>
        string.Join(", ", ops.Select((o, i) => "t" + i + " = " + o.Name + "(" + string.Join(", ", o.Operands.Select(r => r.Name)) + ")" + (o.Relu ? " then ReLU" : "")));

    private static void Write(SourceWriter w, IReadOnlyList<Op> ops, int inputs, int constants)
    {
        w.Line("/// <summary>Element-wise operators fused into one pass over n values, each input read and the result written once: " + Escape.XmlDoc(Describe(ops)) + "; y = t" + (ops.Count - 1) + ".</summary>");
        string spans = string.Join(", ", Enumerable.Range(0, inputs).Select(i => "ReadOnlySpan<float> x" + i));
        string parameters = string.Concat(Enumerable.Range(0, constants).Select(c => ", float c" + c));
        using (w.Kernel("private static void " + SharedKernels.Placeholder + "(" + spans + ", Span<float> y, int n" + parameters + ")"))
        {
            w.Line("if (" + string.Concat(Enumerable.Range(0, inputs).Select(i => "(uint)x" + i + ".Length < (uint)n || ")) + "(uint)y.Length < (uint)n) throw new ArgumentException(\"A layer buffer is too short.\");");
            w.Line("int i = 0;");
            for (int i = 0; i < inputs; i++) w.Line("ref float from" + i + " = ref MemoryMarshal.GetReference(x" + i + ");");
            w.Line("ref float to = ref MemoryMarshal.GetReference(y);");
            VectorWidth.Dispatch(w, v =>
            {
                // The constants broadcast once, before the loop.
                for (int c = 0; c < constants; c++) w.Line(v.Floats + " k" + c + " = " + v.Splat("c" + c) + ";");
                using (w.Block("for (; i <= n - " + v.Lanes + "; i += " + v.Lanes + ")"))
                {
                    for (int i = 0; i < inputs; i++) w.Line(v.Floats + " v" + i + " = " + v.Load("from" + i, "(nuint)i") + ";");
                    for (int t = 0; t < ops.Count; t++)
                        w.Line(v.Floats + " t" + t + " = " + Expression(ops[t], new Vector(v)) + ";");
                    w.Line(v.Store("t" + (ops.Count - 1), "to", "(nuint)i"));
                }
            }, wide: true);
            using (w.Block("for (; i < n; i++)"))
            {
                for (int t = 0; t < ops.Count; t++)
                    w.Line("float t" + t + " = " + Expression(ops[t], new Scalar()) + ";");
                w.Line("y[i] = t" + (ops.Count - 1) + ";");
            }
        }
    }

    /// <summary>How one width (or the scalar tail) spells operands and functions.</summary>
    private abstract class Flavor
    {
        public abstract string Of(Ref r);
        public abstract string Max(string a, string b);
        public abstract string Min(string a, string b);
        public abstract string Zero { get; }
        public abstract string One { get; }
        public abstract string Literal(string value);
    }

    private sealed class Vector : Flavor
    {
        private readonly VectorWidth _v;
        public Vector(VectorWidth v) => _v = v;
        public override string Of(Ref r) => r.Kind switch { 'x' => "v" + r.Index, 'c' => "k" + r.Index, _ => r.Name };
        public override string Max(string a, string b) => _v.Type + ".Max(" + a + ", " + b + ")";
        public override string Min(string a, string b) => _v.Type + ".Min(" + a + ", " + b + ")";
        public override string Zero => _v.Zero;
        public override string One => _v.Floats + ".One";
        public override string Literal(string value) => _v.Splat(value);
    }

    private sealed class Scalar : Flavor
    {
        public override string Of(Ref r) => r.Kind == 'x' ? r.Name + "[i]" : r.Name;
        public override string Max(string a, string b) => "MathF.Max(" + a + ", " + b + ")";
        public override string Min(string a, string b) => "MathF.Min(" + a + ", " + b + ")";
        public override string Zero => "0f";
        public override string One => "1f";
        public override string Literal(string value) => value;
    }

    /// <summary>One operator's result, written as the unfused helper writes it (ElementwiseKernels), so the same bits.</summary>
    private static string Expression(Op op, Flavor f)
    {
        string[] a = op.Operands.Select(f.Of).ToArray();
        string value = op.Name switch
        {
            "Relu" => f is Scalar ? "MathF.Max(0f, " + a[0] + ")" : f.Max(a[0], f.Zero),
            "Clip" => f.Min(f.Max(a[0], a[1]), a[2]),
            "ClipBelow" => f.Max(a[0], a[1]),
            "ClipAbove" => f.Min(a[0], a[1]),
            "ClipNone" => a[0],
            "HardSigmoid" => f.Max(f.Zero, f.Min(f.One, a[0] + " * " + a[1] + " + " + a[2])),
            "HardSwish" => a[0] + " * " + f.Max(f.Zero, f.Min(f.One, a[0] + " * " + f.Literal(Literals.Float(1f / 6)) + " + " + f.Literal("0.5f"))),
            "Add" => a[0] + " + " + a[1],
            "Sub" => a[0] + " - " + a[1],
            "Mul" => a[0] + " * " + a[1],
            "Div" => a[0] + " / " + a[1],
            "Max" => f.Max(a[0], a[1]),
            "Min" => f.Min(a[0], a[1]),
            _ => throw new InvalidOperationException("No fused form for " + op.Name + "."),
        };
        // A ReLU fused into the operator before fusion: after it, as its helper applies it.
        return op.Relu ? (f is Scalar ? "MathF.Max(0f, " + value + ")" : f.Max(value, f.Zero)) : value;
    }
}
