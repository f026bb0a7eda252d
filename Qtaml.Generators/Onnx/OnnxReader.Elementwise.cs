using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>Element-wise operators with parameters or several inputs: Clip, PRelu, and variadic Max, Min, Sum and Mean.</summary>
internal static partial class OnnxReader
{
    /// <summary>
    /// Clip to [min, max]. Before opset 11 the bounds are attributes; from 11 they are optional inputs, constants or
    /// values computed at run time (a log-mel front end clips to its maximum less 80 dB). An absent bound is no bound.
    /// </summary>
    internal static int ReadClip(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        if (r.Opset < 11 && node.Input.Count > 1)
            throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "node '" + name + "' gives Clip its bounds as inputs, which ONNX allows from opset 11; the file imports opset " + r.Opset);
        bool Computed(int index) => r.Opset >= 11 && node.Input.Count > index && node.Input[index].Length > 0 && r.IsValue(node.Input[index]);
        if (Computed(1) || Computed(2)) return ReadClipToComputedBounds(r, node, name);
        float Bound(int index, string attribute, float none) =>
            r.Opset < 11 ? a.Float(attribute, none) : node.Input.Count <= index || node.Input[index].Length == 0 ? none : ConstantClipBound(r, node, name, index, attribute);
        float min = Bound(1, "min", float.NegativeInfinity), max = Bound(2, "max", float.PositiveInfinity);
        if (float.IsNaN(min) || float.IsNaN(max)) throw r.Network.Mismatch(name, "Clip's bounds must be numbers");
        r.Data(node, name);
        return r.Network.Unary(name, UnaryKind.Clip, min, max);
    }

    /// <summary>
    /// Clip with a bound computed at run time: Max(x, min), then Min(that, max), as ONNX defines it (where min &gt; max,
    /// every element is max). Each bound holds one value; an absent one, or a constant infinity, is skipped.
    /// </summary>
    internal static int ReadClipToComputedBounds(Reading r, NodeProto node, string name)
    {
        Operand input = r.Operand(node, name, 0), result = input;
        if (input.IsConstant) throw r.Network.Mismatch(name, "Clip of a constant; fold it when exporting");
        foreach ((int index, BinaryKind kind, string bound) in new[] { (1, BinaryKind.Max, "min"), (2, BinaryKind.Min, "max") })
        {
            if (node.Input.Count <= index || node.Input[index].Length == 0) continue;
            Operand operand;
            if (r.IsValue(node.Input[index]))
            {
                operand = r.Operand(node, name, index);
                if (operand.Length != 1) throw r.Network.Mismatch(name, "Clip's " + bound + " has shape " + Shape.Format(operand.Shape) + "; ONNX needs one value");
            }
            else
            {
                float value = ConstantClipBound(r, node, name, index, bound);
                if (float.IsNaN(value)) throw r.Network.Mismatch(name, "Clip's bounds must be numbers");
                if (float.IsInfinity(value)) continue;
                operand = Generators.Network.Operand.OfConstant(new[] { value }, Scalar);
            }
            result = r.Network.ValueOperand(r.Network.Binary(name + " (" + bound + ")", kind, result, operand));
        }
        return result.Value == input.Value ? r.Data(node, name) : result.Value;
    }

    /// <summary>
    /// A Clip bound given as a constant input: one value. A bound is a parameter, not a weight: +inf or -inf (no bound on
    /// that side) is what some exporters write, so it is read without the weights' finiteness rule.
    /// </summary>
    private static float ConstantClipBound(Reading r, NodeProto node, string name, int index, string attribute)
    {
        (int[] dims, float[] values) = r.Context.Tensor(node.Input[index], name, finite: false);
        if (values.Length != 1) throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "node '" + name + "' gives Clip a " + attribute + " of shape " + Shape.Format(dims) + "; ONNX needs a scalar");
        return values[0];
    }

    /// <summary>PRelu: x for x ≥ 0, slope·x below; the slope (a constant, or a value) broadcasts to x's shape, never the other way.</summary>
    internal static int ReadPRelu(Reading r, NodeProto node, string name)
    {
        Operand x = r.Operand(node, name, 0), slope = r.Operand(node, name, 1);
        if (x.IsConstant) throw r.Network.Mismatch(name, "PRelu of a constant; fold it when exporting");
        // Before opset 7 (no broadcasting rule), a slope of one value per channel applies along ONNX axis 1.
        if (r.Opset < 7 && slope.IsConstant && slope.Shape.Length == 1 && x.Shape.Length > 2 && slope.Length == x.Shape[1])
            slope = Operand.OfConstant(slope.Constant!, new[] { slope.Length }.Concat(Enumerable.Repeat(1, x.Shape.Length - 2)).ToArray());
        int[]? shape = BinaryLayer.Broadcast(x.Shape, slope.Shape);
        if (shape is null || !shape.SequenceEqual(x.Shape))
            throw r.Network.Mismatch(name, "the PRelu slope " + Shape.Format(slope.Shape) + " does not broadcast to its input " + Shape.Format(x.Shape));
        return r.Network.Binary(name, BinaryKind.PRelu, x, slope);
    }

    /// <summary>
    /// Max, Min, Sum or Mean of any number of operands with broadcasting, as a chain of two-operand layers in input
    /// order (Mean: their sum times 1/n). One operand is the identity.
    /// </summary>
    internal static int ReadVariadic(Reading r, NodeProto node, string name, BinaryKind kind, bool mean = false)
    {
        Operand[] operands = Enumerable.Range(0, node.Input.Count).Select(i => r.Operand(node, name, i)).ToArray();
        if (operands.All(o => o.IsConstant)) throw r.Network.Mismatch(name, node.OpType + " of constants only; fold it when exporting");
        if (operands.Length == 1) return r.Data(node, name);
        Operand result = operands[0];
        for (int i = 1; i < operands.Length; i++)
        {
            string step = operands.Length == 2 && !mean ? name : name + " (" + (i == 1 ? "inputs 1 and 2" : "input " + (i + 1)) + ")";
            result = r.Network.ValueOperand(r.Network.Binary(step, kind, result, operands[i]));
        }
        if (mean) return r.Network.Binary(name + " (mean)", BinaryKind.Mul, result, Operand.OfConstant(new[] { 1f / operands.Length }, Scalar));
        return result.Value;
    }

    internal static int Unary(Reading r, NodeProto node, string name, UnaryKind kind, float alpha = 0, float beta = 0)
    {
        r.Data(node, name);
        return r.Network.Unary(name, kind, alpha, beta);
    }

    internal static int ReadBinary(Reading r, NodeProto node, string name, BinaryKind kind, NodeAttributes a)
    {
        Operand left = r.Operand(node, name, 0), right = r.Operand(node, name, 1);
        right = LegacyBroadcast(r, node, name, a, left, right);
        return r.Network.Binary(name, kind, left, right);
    }

    /// <summary>
    /// Before opset 7, element-wise arithmetic broadcast only when asked (broadcast = 1), by aligning the second
    /// operand's shape with the first's trailing axes, or with the axes from 'axis' on. Trailing alignment is what
    /// numpy broadcasting does; an explicit axis becomes it by giving the second operand trailing axes of 1 (a
    /// constant is re-shaped, a value reshaped). Returns the second operand, aligned.
    /// </summary>
    internal static Operand LegacyBroadcast(Reading r, NodeProto node, string name, NodeAttributes a, Operand left, Operand right)
    {
        if (r.Opset >= 7) return right;
        bool broadcast = a.Int("broadcast", 0) != 0;
        if (!broadcast && left.Length != right.Length)
            throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "node '" + name + "' combines shapes " + Shape.Format(left.Shape) + " and " + Shape.Format(right.Shape) + " without broadcast = 1, which opset " + r.Opset + " requires for that");
        if (!broadcast || !a.Has("axis")) return right;
        int rank = left.Shape.Length;
        long axis = a.Int("axis", 0);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis + right.Shape.Length > rank)
            throw r.Network.Mismatch(name, node.OpType + " broadcasts " + Shape.Format(right.Shape) + " from axis " + a.Int("axis", 0) + " of " + Shape.Format(left.Shape) + ", past its last axis");
        int[] aligned = right.Shape.Concat(Enumerable.Repeat(1, rank - (int)axis - right.Shape.Length)).ToArray();
        if (aligned.Length == right.Shape.Length) return right;
        if (right.IsConstant) return Operand.OfConstant(right.Constant!, aligned);
        r.Network.Current = right.Value;
        r.Network.Reshape(name + " (legacy broadcast from axis " + axis + ")", aligned);
        return r.Network.ValueOperand(r.Network.Current);
    }

    /// <summary>
    /// An Add of a constant to the product of a Conv or dense layer that nothing else reads is that layer's bias,
    /// folded into it; any other Add (a residual connection, a broadcast constant) is computed.
    /// </summary>
    internal static int ReadAdd(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        Operand left = r.Operand(node, name, 0), right = r.Operand(node, name, 1);
        right = LegacyBroadcast(r, node, name, a, left, right);
        (Operand data, Operand constant, string dataName) = left.IsConstant ? (right, left, node.Input[1]) : (left, right, node.Input[0]);
        if (constant.IsConstant && !data.IsConstant && r.Uses.TryGetValue(dataName, out int uses) && uses == 1
            && r.Network.Producer(data.Value) is WeightLayer producer and not EmbeddingLayer && IsBias(producer, constant))
        {
            r.Network.Current = data.Value;
            float[] b = constant.Constant!;
            var ones = Enumerable.Repeat(1f, producer.Channels).ToArray();
            producer.FoldAffine(ones, b.Length == 1 ? Enumerable.Repeat(b[0], producer.Channels).ToArray() : b);
            return data.Value;
        }
        return r.Network.Binary(name, BinaryKind.Add, left, right);
    }

    /// <summary>
    /// Whether a constant adds one value per output channel without changing the layer's output shape: a scalar,
    /// [C] after a dense layer (its last axis), [C, 1, 1] after a 2-D Conv ([C, 1] after a 1-D one), each with any
    /// leading unit axes up to the output's rank. ([C] after a Conv broadcasts against the width axis, not the channels.)
    /// </summary>
    internal static bool IsBias(WeightLayer layer, Operand constant)
    {
        int[] output = layer.OutputShape, own = constant.Shape.SkipWhile(d => d == 1).ToArray();
        if (constant.Shape.Length > output.Length) return false;
        if (constant.Length == 1) return true;
        int channels = layer.Channels;
        return layer switch
        {
            DenseLayer => own.Length == 1 && own[0] == channels,
            ConvLayer => own.Length == output.Length - 1 && own[0] == channels && own.Skip(1).All(d => d == 1),
            _ => false,
        };
    }

    /// <summary>Gelu in its exact (erf) form; the tanh approximation is refused rather than computed differently.</summary>
    internal static int ReadGelu(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        string approximate = a.String("approximate", "none");
        if (approximate == "tanh") throw r.Network.Mismatch(name, "Gelu with approximate = tanh is not supported; export the exact (erf) GELU");
        if (approximate != "none") throw Malformed(r, name, "Gelu", "sets approximate to '" + approximate + "'; ONNX defines 'none' and 'tanh'");
        return Unary(r, node, name, UnaryKind.Gelu);
    }
}
