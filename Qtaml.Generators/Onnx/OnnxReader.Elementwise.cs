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
    private static int ReadClip(Reading r, NodeProto node, string name, NodeAttributes a)
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
    private static int ReadClipToComputedBounds(Reading r, NodeProto node, string name)
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
    private static int ReadPRelu(Reading r, NodeProto node, string name)
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
    private static int ReadVariadic(Reading r, NodeProto node, string name, BinaryKind kind, bool mean = false)
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

    /// <summary>
    /// Gather of a computed value at constant indices, on any axis (a recurrent state's layer picked from [layers, batch,
    /// hidden], a token picked from a sequence): a copy that reads, along the axis, the rows the indices name, then the
    /// index tensor's shape in place of that axis (none for one scalar index).
    /// </summary>
    private static int ReadGatherOfValue(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        int value = r.Data(node, name);
        int[] shape = r.Network.ShapeOf(value);
        int axis = r.Axis(value, a.Int("axis", 0), name, "Gather");
        (int[] indexShape, long[] indices) = r.Context.Indices(node.Input[1], name);
        if (indices.Length == 0) throw r.Network.Mismatch(name, "Gather with no indices makes an empty tensor");
        int size = shape[axis];
        var rows = new int[indices.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            long index = indices[i] < 0 ? indices[i] + size : indices[i];
            if (index < 0 || index >= size) throw r.Network.Mismatch(name, "Gather index " + indices[i] + " is outside axis " + axis + " of size " + size);
            rows[i] = (int)index;
        }
        int[][] sources = shape.Select((d, k) => k == axis ? rows : Enumerable.Range(0, d).ToArray()).ToArray();
        r.Network.AxisMap(name + (indexShape.Length == 1 ? "" : " (rows)"), "Gather", sources);
        if (indexShape.Length == 1) return r.Network.Current;
        int[] output = shape.Take(axis).Concat(indexShape).Concat(shape.Skip(axis + 1)).ToArray();
        r.Network.Reshape(name, output);
        return r.Network.Current;
    }
}
