using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>Operators that move, join or pick values without arithmetic: Reshape, Flatten, Transpose, Squeeze and Unsqueeze, Concat, Gather, Cast, Identity, Dropout.</summary>
internal static partial class OnnxReader
{
    /// <summary>Reshape to a constant shape: 0 copies the input's dimension at that position (unless allowzero), one -1 takes what is left.</summary>
    internal static int ReadReshape(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        Context context = r.Context;
        NetworkBuilder network = r.Network;
        int value = r.Data(node, name);
        long[] target = context.Longs(node.Input[1], name);
        int[] shape = network.ShapeOf(value);
        int total = Shape.Length(shape);
        bool copies = a.Int("allowzero", 0) == 0;
        long known = 1;
        int unknown = 0;
        var result = new long[target.Length];
        for (int i = 0; i < target.Length; i++)
        {
            long d = target[i];
            if (d == 0 && copies)
            {
                if (i >= shape.Length) throw network.Mismatch(name, "Reshape to [" + string.Join(", ", target) + "] copies dimension " + i + ", which its input " + Shape.Format(shape) + " does not have");
                d = shape[i];
            }
            result[i] = d;
            if (d == -1) unknown++;
            else if (d > 0) known = Math.Min(known * d, 1L << 40);
            else throw network.Mismatch(name, "Reshape to [" + string.Join(", ", target) + "] is not supported" + (d == 0 ? " (an empty tensor)" : ""));
        }
        if (unknown > 1) throw new ModelReadException(Diagnostics.MalformedFile, context.Path, "node '" + name + "' reshapes to [" + string.Join(", ", target) + "], with more than one -1");
        if ((unknown == 0 && known != total) || (unknown == 1 && total % known != 0))
            throw network.Mismatch(name, "Reshape to [" + string.Join(", ", target) + "] does not fit the " + total + " values of " + Shape.Format(shape));
        int[] resolved = result.Select(d => d == -1 ? (int)(total / known) : (int)d).ToArray();
        network.Reshape(name, resolved.Length == 0 ? new[] { total } : resolved);
        return network.Current;
    }

    /// <summary>Transpose by any permutation (none given: the axes reversed).</summary>
    internal static int ReadTranspose(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        NetworkBuilder network = r.Network;
        int value = r.Data(node, name);
        long[] perm = a.Ints("perm");
        int rank = network.ShapeOf(value).Length;
        if (perm.Length == 0) perm = Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
        if (perm.Length != rank) throw network.Mismatch(name, "Transpose perm [" + string.Join(", ", perm) + "] does not fit a rank-" + rank + " tensor");
        return network.Transpose(name, perm.Select(p => p < 0 || p >= rank ? -1 : (int)p).ToArray());
    }

    /// <summary>Flatten to two axes at any axis.</summary>
    internal static int ReadFlatten(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        NetworkBuilder network = r.Network;
        int value = r.Data(node, name);
        long axis = a.Int("axis", 1), rank = network.ShapeOf(value).Length;
        if (axis < -rank || axis > rank) throw network.Mismatch(name, "Flatten axis " + axis + " is outside the " + rank + " axes of its input");
        network.Flatten(name, (int)(axis < 0 ? axis + rank : axis));
        return network.Current;
    }

    /// <summary>Concat of values and constants on any axis; a constant part of lower rank is aligned from the right.</summary>
    internal static int ReadConcat(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        NetworkBuilder network = r.Network;
        if (!a.Has("axis")) throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "Concat node '" + name + "' has no axis; ONNX requires one");
        Operand[] parts = Enumerable.Range(0, node.Input.Count).Select(i => r.Operand(node, name, i)).ToArray();
        Operand first = parts.FirstOrDefault(p => !p.IsConstant) ?? throw network.Mismatch(name, "Concat of constants only; fold it when exporting");
        // A constant part of lower rank (a scalar made a vector) is aligned from the right, as broadcasting would.
        int rank = first.Shape.Length;
        parts = parts.Select(p => !p.IsConstant || p.Shape.Length == rank ? p
            : p.Shape.Length < rank ? Operand.OfConstant(p.Constant!, Enumerable.Repeat(1, rank - p.Shape.Length).Concat(p.Shape).ToArray())
            : throw network.Mismatch(name, "a Concat constant has more axes than the values it joins")).ToArray();
        int axis = r.Axis(first.Value, a.Int("axis", 0), name, "Concat");
        return network.Concat(name, parts, axis);
    }

    /// <summary>
    /// Gather: of a value at constant indices (any axis); of a constant table (an embedding, quantized like any weight)
    /// at constant indices or at an integer graph input's (token ids).
    /// </summary>
    internal static int ReadGather(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        NetworkBuilder network = r.Network;
        if (r.IsValue(node.Input[0]) && !r.IsValue(node.Input[1])) return ReadGatherOfValue(r, node, name, a);
        if (a.Int("axis", 0) != 0) throw network.Mismatch(name, "Gather of a constant table is supported on axis 0 (rows of an embedding table)");
        if (r.IsValue(node.Input[0]))
            throw network.Mismatch(name, "Gather of a computed table at computed indices is not supported; a constant table is read at constant indices or at an integer graph input's");
        if (r.IsValue(node.Input[1]))
        {
            if (!r.IsIntegerInput(node.Input[1]))
                throw network.Mismatch(name, "Gather indices computed at run time are supported when they are an integer graph input (token ids)");
            (int[] tableShape, float[] tableValues) = r.Context.Tensor(node.Input[0], name);
            return network.EmbeddingAt(name, tableValues, tableShape, r.Data(node, name, 1));
        }
        (int[] dims, float[] table) = r.Context.Tensor(node.Input[0], name);
        (int[] indexShape, long[] indices) = r.Context.Indices(node.Input[1], name);
        return network.Embedding(name, table, dims, indices, indexShape);
    }

    /// <summary>
    /// Cast of a computed value. Values are float32 at run time: a cast to float32 is the identity, to double too (every
    /// float32 is a double, and what follows is computed in float32); to float16 rounds to the nearest half; to bool is 1
    /// where the value is not 0. Casts to integer types change what values mean and are not compiled.
    /// </summary>
    internal static int ReadCast(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        const long Float16 = 10, Bool = 9;
        long to = a.Int("to", 0);
        if (to is ConstantTensor.Float or ConstantTensor.Double) return r.Data(node, name);
        if (to == Float16) return Unary(r, node, name, UnaryKind.RoundToHalf);
        if (to == Bool)
        {
            // Not twice: 1 where the value is not 0 (booleans are 0 and 1 at run time).
            Unary(r, node, name + " (is zero)", UnaryKind.Not);
            return r.Network.Unary(name, UnaryKind.Not);
        }
        throw r.Network.Mismatch(name, "Cast of a computed value to ONNX type " + to + " is not supported; Qtaml computes in float32 (casts to float, double, float16 and bool compile)");
    }

    /// <summary>Identity: the value itself, no step.</summary>
    internal static int ReadIdentity(Reading r, NodeProto node, string name, NodeAttributes a) => r.Data(node, name);

    /// <summary>
    /// An operator Qtaml computes only at build time (Constant, Shape, Size, ConstantOfShape, Range): reached only when an
    /// input is a value computed at run time, which Qtaml does not compile.
    /// </summary>
    internal static int ReadAtBuildTimeOnly(Reading r, NodeProto node, string name, NodeAttributes a) =>
        throw r.Network.Mismatch(name, node.OpType + " of a value computed at run time is not supported; Qtaml computes it at build time when its inputs are constants");

    /// <summary>
    /// Squeeze (drop unit axes: the listed ones, or all) and Unsqueeze (insert unit axes at the listed positions of
    /// the result). Axes are attributes before opset 13 and an input from 13. Either is a reshape.
    /// </summary>
    internal static int ReadSqueeze(Reading r, NodeProto node, string name, NodeAttributes a, bool squeeze)
    {
        NetworkBuilder network = r.Network;
        int value = r.Data(node, name);
        if (r.Opset < 13 && node.Input.Count > 1)
            throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "node '" + name + "' gives " + node.OpType + " its axes as an input, which ONNX allows from opset 13; the file imports opset " + r.Opset);
        if (node.Input.Count > 1 && node.Input[1].Length > 0 && r.IsValue(node.Input[1]))
            throw network.Mismatch(name, node.OpType + "'s axes are computed at run time; Qtaml needs them as a constant");
        long[] axes = node.Input.Count > 1 && node.Input[1].Length > 0 ? r.Context.Longs(node.Input[1], name) : a.Ints("axes");
        var onnx = new List<int>(network.ShapeOf(value));
        int rank = squeeze ? onnx.Count : onnx.Count + axes.Length;
        var positions = new HashSet<int>();
        foreach (long axis in axes)
        {
            long positive = axis < 0 ? axis + rank : axis;
            if (positive < 0 || positive >= rank || !positions.Add((int)positive))
                throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "node '" + name + "' has " + node.OpType + " axes [" + string.Join(", ", axes) + "], which are not distinct axes of a rank-" + rank + " tensor");
        }
        if (!squeeze && axes.Length == 0) throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "Unsqueeze node '" + name + "' has no axes; ONNX requires them");
        List<int> result;
        if (squeeze)
        {
            if (positions.Any(p => onnx[p] != 1))
                throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "node '" + name + "' squeezes an axis that is not of size 1 in " + Shape.Format(onnx.ToArray()));
            result = onnx.Where((d, i) => positions.Count == 0 ? d != 1 : !positions.Contains(i)).ToList();
        }
        else
        {
            result = new List<int>();
            int next = 0;
            for (int i = 0; i < rank; i++) result.Add(positions.Contains(i) ? 1 : onnx[next++]);
        }
        // A scalar result is held as [1].
        network.Reshape(name, result.Count == 0 ? Scalar : result.ToArray());
        return network.Current;
    }

    /// <summary>
    /// Gather of a computed value at constant indices, on any axis (a recurrent state's layer picked from [layers, batch,
    /// hidden], a token picked from a sequence): a copy that reads, along the axis, the rows the indices name, then the
    /// index tensor's shape in place of that axis (none for one scalar index).
    /// </summary>
    internal static int ReadGatherOfValue(Reading r, NodeProto node, string name, NodeAttributes a)
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

    /// <summary>Dropout is the identity at inference; a file that asks for training mode (a true training_mode input) is refused.</summary>
    internal static int ReadDropout(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            if (r.IsValue(node.Input[2])) throw r.Network.Mismatch(name, "Dropout's training_mode is computed at run time; Qtaml compiles inference, where it must be a constant false");
            if (r.Context.Booleans(node.Input[2], name).Any(t => t)) throw r.Network.Mismatch(name, "Dropout has training_mode = true, which drops values at random; export the model in inference mode");
        }
        if (node.Input.Count > 1 && node.Input[1].Length > 0 && r.IsValue(node.Input[1]))
            throw r.Network.Mismatch(name, "Dropout's ratio is computed at run time; Qtaml needs it as a constant");
        return r.Data(node, name);
    }
}
