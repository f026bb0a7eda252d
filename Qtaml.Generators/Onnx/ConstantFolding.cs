using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// Computes at build time what needs no input: the shape arithmetic exporters write (Shape, Size, Gather, Unsqueeze,
/// Concat, ConstantOfShape, Range, Cast, Reshape), and any of the operators below when every input is a constant
/// (a transposed weight, a scaled bias). A value's shape is known at build time, so Shape and Size of a value fold too.
/// The result replaces the node as an initializer. A float table gathered by constant indices is not folded:
/// it is an embedding, a weight that is quantized and protected like any other.
/// </summary>
internal static class ConstantFolding
{
    private static readonly HashSet<string> Foldable = new(StringComparer.Ordinal)
    {
        "Shape", "Size", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "ConstantOfShape", "Range", "Reshape", "Transpose",
        "Slice", "Identity", "Flatten", "Add", "Sub", "Mul", "Div", "Neg",
        "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor", "Not",
    };

    /// <summary>
    /// The node's output if it can be folded: its operator is one of the above and its inputs are constants
    /// (<paramref name="constant"/> gives them) or, for Shape, a value whose ONNX shape <paramref name="shapeOf"/> gives.
    /// </summary>
    public static ConstantTensor? TryFold(string path, NodeProto node, string name, NodeAttributes a, int opset,
        Func<string, ConstantTensor?> constant, Func<string, long[]?> shapeOf)
    {
        if (!Foldable.Contains(node.OpType) || node.Output.Count != 1) return null;
        if (node.OpType is "Shape" or "Size")
        {
            long[]? shape = shapeOf(node.Input[0]) ?? constant(node.Input[0])?.Dims.Select(d => (long)d).ToArray();
            if (shape is null) return null;
            return node.OpType == "Shape" ? Shape(shape, a) : new ConstantTensor(Array.Empty<int>(), ConstantTensor.Int64, new[] { (double)shape.Aggregate(1L, (p, d) => p * d) });
        }
        var inputs = new ConstantTensor?[node.Input.Count];
        for (int i = 0; i < inputs.Length; i++)
        {
            if (node.Input[i].Length == 0) continue;
            inputs[i] = constant(node.Input[i]);
            if (inputs[i] is null) return null;
        }
        if (inputs.Length == 0 || inputs[0] is null) return null;
        if (node.OpType == "Gather" && !inputs[0]!.IsInteger) return null;   // an embedding: kept as a weight layer
        var f = new Folder(path, name, node.OpType);
        ConstantTensor x = inputs[0]!;
        ConstantTensor? Input(int i) => i < inputs.Length ? inputs[i] : null;
        return node.OpType switch
        {
            "Identity" => x,
            "Gather" => f.Gather(x, Input(1) ?? throw f.Bad("has no indices"), a.Int("axis", 0)),
            "Unsqueeze" => f.Unsqueeze(x, opset >= 13 ? Longs(Input(1)) : a.Ints("axes")),
            "Squeeze" => f.Squeeze(x, opset >= 13 ? Longs(Input(1)) : a.Ints("axes")),
            "Concat" => f.Concat(inputs.Select(t => t ?? throw f.Bad("has an empty input")).ToArray(), a.Int("axis", 0)),
            "Cast" => f.Cast(x, (int)a.Int("to", 0)),
            "ConstantOfShape" => f.ConstantOfShape(x, a.Tensor("value") is { } value ? ConstantTensor.Decode(path, value) : null),
            "Range" => f.Range(x, Input(1) ?? throw f.Bad("has no limit"), Input(2) ?? throw f.Bad("has no delta")),
            "Reshape" => f.Reshape(x, Longs(Input(1)), a.Int("allowzero", 0) != 0),
            "Flatten" => f.Flatten(x, a.Int("axis", 1)),
            "Transpose" => f.Transpose(x, a.Ints("perm")),
            "Slice" => opset >= 10
                ? f.Slice(x, Longs(Input(1)), Longs(Input(2)), Input(3) is null ? null : Longs(Input(3)), Input(4) is null ? null : Longs(Input(4)))
                : f.Slice(x, a.Ints("starts"), a.Ints("ends"), a.Has("axes") ? a.Ints("axes") : null, null),
            "Neg" => new ConstantTensor(x.Dims, x.Type, x.Values.Select(v => -v).ToArray()),
            "Not" => new ConstantTensor(x.Dims, ConstantTensor.Bool, x.Values.Select(v => v == 0 ? 1d : 0d).ToArray()),
            _ => f.Arithmetic(x, Input(1) ?? throw f.Bad("has one input"), node.OpType),
        };
    }

    private static long[] Longs(ConstantTensor? t) => t?.Values.Select(v => (long)v).ToArray() ?? Array.Empty<long>();

    private static ConstantTensor Shape(long[] shape, NodeAttributes a)
    {
        int rank = shape.Length;
        long Clamp(long i) => Math.Max(0, Math.Min(rank, i < 0 ? i + rank : i));
        long start = Clamp(a.Int("start", 0)), end = a.Has("end") ? Clamp(a.Int("end", rank)) : rank;
        long[] part = shape.Skip((int)start).Take((int)Math.Max(0, end - start)).ToArray();
        return new ConstantTensor(new[] { part.Length }, ConstantTensor.Int64, part.Select(d => (double)d).ToArray());
    }

    /// <summary>The operators' arithmetic on one node, with its name for the diagnostics.</summary>
    private sealed class Folder
    {
        private readonly string _path, _node, _op;

        public Folder(string path, string node, string op)
        {
            _path = path;
            _node = node;
            _op = op;
        }

        public ModelReadException Bad(string what) => new(Diagnostics.MalformedFile, _path, "node '" + _node + "' (" + _op + ") " + what);

        private int Axis(long axis, int rank)
        {
            long positive = axis < 0 ? axis + rank : axis;
            if (positive < 0 || positive >= rank) throw Bad("has axis " + axis + " outside its rank-" + rank + " input");
            return (int)positive;
        }

        private static long[] Strides(int[] dims)
        {
            var strides = new long[dims.Length];
            long s = 1;
            for (int i = dims.Length - 1; i >= 0; i--) { strides[i] = s; s *= dims[i]; }
            return strides;
        }

        private int[] Checked(IEnumerable<long> dims)
        {
            long count = 1;
            var result = dims.Select(d => d < 0 || d > ConstantTensor.MaxElements ? throw Bad("makes a dimension of " + d) : (int)d).ToArray();
            foreach (int d in result) count = Math.Min(count * d, long.MaxValue / 2);
            if (count > ConstantTensor.MaxElements) throw new ModelReadException(Diagnostics.ShapeMismatch, _path, _node, _op + " at build time would make more than " + ConstantTensor.MaxElements + " values");
            return result;
        }

        public ConstantTensor Gather(ConstantTensor data, ConstantTensor indices, long axisAttribute)
        {
            int axis = Axis(axisAttribute, data.Dims.Length);
            int[] dims = Checked(data.Dims.Take(axis).Select(d => (long)d).Concat(indices.Dims.Select(d => (long)d)).Concat(data.Dims.Skip(axis + 1).Select(d => (long)d)));
            long outer = data.Dims.Take(axis).Aggregate(1L, (p, d) => p * d), inner = data.Dims.Skip(axis + 1).Aggregate(1L, (p, d) => p * d);
            int size = data.Dims[axis];
            var values = new List<double>();
            for (long o = 0; o < outer; o++)
                foreach (double raw in indices.Values)
                {
                    long index = (long)raw < 0 ? (long)raw + size : (long)raw;
                    if (index < 0 || index >= size) throw Bad("gathers index " + raw + " of an axis of " + size);
                    for (long i = 0; i < inner; i++) values.Add(data.Values[(o * size + index) * inner + i]);
                }
            return new ConstantTensor(dims, data.Type, values.ToArray());
        }

        public ConstantTensor Unsqueeze(ConstantTensor x, long[] axes)
        {
            int rank = x.Dims.Length + axes.Length;
            var positions = new HashSet<int>(axes.Select(axis => Axis(axis, rank)));
            if (positions.Count != axes.Length || axes.Length == 0) throw Bad("needs distinct axes");
            var dims = new List<int>();
            int next = 0;
            for (int i = 0; i < rank; i++) dims.Add(positions.Contains(i) ? 1 : x.Dims[next++]);
            return new ConstantTensor(dims.ToArray(), x.Type, x.Values);
        }

        public ConstantTensor Squeeze(ConstantTensor x, long[] axes)
        {
            var positions = new HashSet<int>(axes.Select(axis => Axis(axis, x.Dims.Length)));
            if (positions.Any(p => x.Dims[p] != 1)) throw Bad("squeezes an axis that is not of size 1");
            int[] dims = x.Dims.Where((d, i) => positions.Count == 0 ? d != 1 : !positions.Contains(i)).ToArray();
            return new ConstantTensor(dims, x.Type, x.Values);
        }

        public ConstantTensor Concat(ConstantTensor[] parts, long axisAttribute)
        {
            int rank = parts[0].Dims.Length, axis = Axis(axisAttribute, rank);
            if (parts.Any(p => p.Dims.Length != rank || p.Dims.Where((d, i) => i != axis && d != parts[0].Dims[i]).Any()))
                throw Bad("joins tensors whose shapes differ off the axis");
            int[] dims = (int[])parts[0].Dims.Clone();
            dims[axis] = (int)Math.Min(int.MaxValue, parts.Sum(p => (long)p.Dims[axis]));
            dims = Checked(dims.Select(d => (long)d));
            long outer = dims.Take(axis).Aggregate(1L, (p, d) => p * d);
            var values = new List<double>();
            for (long o = 0; o < outer; o++)
                foreach (ConstantTensor part in parts)
                {
                    long chunk = part.Dims.Skip(axis).Aggregate(1L, (p, d) => p * d);
                    for (long i = 0; i < chunk; i++) values.Add(part.Values[o * chunk + i]);
                }
            int type = parts.All(p => p.IsInteger) ? parts[0].Type : ConstantTensor.Float;
            return new ConstantTensor(dims, type, values.ToArray());
        }

        public ConstantTensor Cast(ConstantTensor x, int to)
        {
            if (!ConstantTensor.IsSupported(to)) throw new ModelReadException(Diagnostics.ShapeMismatch, _path, _node, "Cast to ONNX type " + to + " is not supported at build time");
            double[] values = to switch
            {
                ConstantTensor.Float => x.Values.Select(v => (double)(float)v).ToArray(),
                ConstantTensor.Bool => x.Values.Select(v => v != 0 ? 1d : 0d).ToArray(),
                ConstantTensor.Double => x.Values,
                _ => x.Values.Select(v => double.IsNaN(v) ? 0 : Math.Truncate(v)).ToArray(),
            };
            return new ConstantTensor(x.Dims, to, values);
        }

        public ConstantTensor ConstantOfShape(ConstantTensor shape, ConstantTensor? value)
        {
            int[] dims = Checked(shape.Values.Select(v => (long)v));
            double fill = value is null ? 0 : value.Count == 1 ? value.Values[0] : throw Bad("has a value that is not one element");
            long count = dims.Aggregate(1L, (p, d) => p * d);
            return new ConstantTensor(dims, value?.Type ?? ConstantTensor.Float, Enumerable.Repeat(fill, (int)count).ToArray());
        }

        public ConstantTensor Range(ConstantTensor start, ConstantTensor limit, ConstantTensor delta)
        {
            if (start.Count != 1 || limit.Count != 1 || delta.Count != 1) throw Bad("needs scalar start, limit and delta");
            double s = start.Values[0], l = limit.Values[0], d = delta.Values[0];
            if (d == 0 || double.IsNaN(s + l + d)) throw Bad("has a delta of 0 or a bound that is not a number");
            double steps = Math.Max(0, Math.Ceiling((l - s) / d));
            int[] dims = Checked(new[] { (long)Math.Min(steps, long.MaxValue / 4) });
            return new ConstantTensor(dims, start.Type, Enumerable.Range(0, dims[0]).Select(i => s + i * d).ToArray());
        }

        public ConstantTensor Reshape(ConstantTensor x, long[] target, bool allowZero)
        {
            long known = 1;
            int unknown = -1;
            var dims = new long[target.Length];
            for (int i = 0; i < target.Length; i++)
            {
                dims[i] = target[i] == 0 && !allowZero ? (i < x.Dims.Length ? x.Dims[i] : throw Bad("copies a dimension the input does not have")) : target[i];
                if (dims[i] == -1) { if (unknown >= 0) throw Bad("has two -1 dimensions"); unknown = i; }
                else if (dims[i] < 0) throw Bad("has a negative dimension");
                else known *= Math.Max(dims[i], 1);
            }
            if (unknown >= 0) dims[unknown] = known == 0 || x.Count % known != 0 ? -2 : x.Count / known;
            if (dims.Any(d => d < 0) || dims.Aggregate(1L, (p, d) => p * d) != x.Count) throw Bad("reshapes " + x.Count + " values to [" + string.Join(", ", target) + "]");
            return new ConstantTensor(Checked(dims), x.Type, x.Values);
        }

        public ConstantTensor Flatten(ConstantTensor x, long axisAttribute)
        {
            int axis = axisAttribute == x.Dims.Length ? x.Dims.Length : Axis(axisAttribute, Math.Max(1, x.Dims.Length));
            long outer = x.Dims.Take(axis).Aggregate(1L, (p, d) => p * d);
            return new ConstantTensor(Checked(new[] { outer, x.Count / Math.Max(outer, 1) }), x.Type, x.Values);
        }

        public ConstantTensor Transpose(ConstantTensor x, long[] permutation)
        {
            int rank = x.Dims.Length;
            int[] perm = permutation.Length == 0 ? Enumerable.Range(0, rank).Reverse().ToArray() : permutation.Select(p => (int)Math.Max(-1, Math.Min(rank, p))).ToArray();
            if (perm.Length != rank || perm.OrderBy(p => p).Where((p, i) => p != i).Any()) throw Bad("has perm [" + string.Join(", ", permutation) + "], not a permutation of " + rank + " axes");
            int[] dims = perm.Select(p => x.Dims[p]).ToArray();
            long[] inStrides = Strides(x.Dims), outStrides = Strides(dims);
            var values = new double[x.Values.Length];
            for (long o = 0; o < values.Length; o++)
            {
                long source = 0, rest = o;
                for (int d = 0; d < rank; d++) { long index = rest / outStrides[d]; rest %= outStrides[d]; source += index * inStrides[perm[d]]; }
                values[o] = x.Values[source];
            }
            return new ConstantTensor(dims, x.Type, values);
        }

        public ConstantTensor Slice(ConstantTensor x, long[] starts, long[] ends, long[]? axes, long[]? steps)
        {
            int[][] tables = AxisTables.Slice(x.Dims, starts, ends, axes, steps, Bad);
            int[] dims = Checked(tables.Select(t => (long)t.Length));
            return new ConstantTensor(dims, x.Type, AxisTables.Apply(x.Values, x.Dims, tables, 0));
        }

        public ConstantTensor Arithmetic(ConstantTensor left, ConstantTensor right, string op)
        {
            int[] dims = BinaryLayer.Broadcast(left.Dims, right.Dims) ?? throw Bad("combines shapes that do not broadcast");
            dims = Checked(dims.Select(d => (long)d));
            bool integer = left.IsInteger && right.IsInteger, logical = op is not ("Add" or "Sub" or "Mul" or "Div");
            int rank = dims.Length;
            long[] outStrides = Strides(dims);
            long[] Aligned(ConstantTensor t)
            {
                long[] own = Strides(t.Dims);
                return Enumerable.Range(0, rank).Select(d => { int i = d - (rank - t.Dims.Length); return i < 0 || t.Dims[i] == 1 ? 0 : own[i]; }).ToArray();
            }
            long[] ls = Aligned(left), rs = Aligned(right);
            var values = new double[dims.Aggregate(1L, (p, d) => p * d)];
            for (long o = 0; o < values.Length; o++)
            {
                long l = 0, r = 0, rest = o;
                for (int d = 0; d < rank; d++) { long index = rest / outStrides[d]; rest %= outStrides[d]; l += index * ls[d]; r += index * rs[d]; }
                double a = left.Values[l], b = right.Values[r];
                values[o] = op switch
                {
                    "Add" => a + b,
                    "Sub" => a - b,
                    "Mul" => a * b,
                    "Div" => integer ? (b == 0 ? throw Bad("divides an integer by 0") : Math.Truncate(a / b)) : a / b,
                    "Equal" => a == b ? 1 : 0,
                    "Greater" => a > b ? 1 : 0,
                    "Less" => a < b ? 1 : 0,
                    "GreaterOrEqual" => a >= b ? 1 : 0,
                    "LessOrEqual" => a <= b ? 1 : 0,
                    "And" => a != 0 && b != 0 ? 1 : 0,
                    "Or" => a != 0 || b != 0 ? 1 : 0,
                    _ => (a != 0) != (b != 0) ? 1 : 0,
                };
                if (!integer && !logical) values[o] = (float)values[o];   // float32 arithmetic, as at run time
            }
            return new ConstantTensor(dims, logical ? ConstantTensor.Bool : integer ? left.Type : ConstantTensor.Float, values);
        }
    }
}
