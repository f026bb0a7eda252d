using System;
using System.Linq;

namespace Qtaml.Generators.Network;

/// <summary>An input of an elementwise or concatenating layer: a value of the graph or a constant from the file.</summary>
internal sealed class Operand
{
    private Operand(int value, float[]? constant, int[] shape)
    {
        Value = value;
        Constant = constant;
        Shape = shape;
    }

    /// <summary>The value read, or −1 for a constant.</summary>
    public int Value { get; }

    public float[]? Constant { get; }
    public int[] Shape { get; }
    public bool IsConstant => Constant is not null;
    public int Length => Network.Shape.Length(Shape);

    public static Operand OfValue(int value, int[] shape) => new(value, null, shape);

    public static Operand OfConstant(float[] values, int[] shape) => new(-1, values, shape);
}

internal enum UnaryKind
{
    Erf, Gelu, Sqrt, Tanh, Sigmoid, Exp, Neg, Abs, Reciprocal, Log,

    /// <summary>x for x ≥ 0, α·x below.</summary>
    LeakyRelu,

    /// <summary>x for x &gt; 0, α·(eˣ − 1) at and below 0.</summary>
    Elu,

    /// <summary>γ·x for x &gt; 0, γ·α·(eˣ − 1) at and below 0 (α = <see cref="UnaryLayer.Alpha"/>, γ = <see cref="UnaryLayer.Beta"/>).</summary>
    Selu,

    /// <summary>ln(1 + eˣ).</summary>
    Softplus,

    /// <summary>x / (1 + |x|).</summary>
    Softsign,

    /// <summary>max(0, min(1, α·x + β)).</summary>
    HardSigmoid,

    /// <summary>x·max(0, min(1, x/6 + 1/2)).</summary>
    HardSwish,

    /// <summary>min(max(x, α), β): α and β are the bounds (ReLU6 is Clip(0, 6)).</summary>
    Clip,

    /// <summary>Logical not of a boolean held as 0 or 1: 1 where x is 0, else 0.</summary>
    Not,

    /// <summary>x rounded to the nearest half-precision value (a Cast to float16), kept in float32.</summary>
    RoundToHalf,
}

/// <summary>An elementwise function of one value, with up to two constant parameters.</summary>
internal sealed class UnaryLayer : Layer
{
    public UnaryLayer(string name, UnaryKind kind, int[] shape, float alpha = 0, float beta = 0) : base(name, kind.ToString(), shape, shape)
    {
        Kind = kind;
        Alpha = alpha;
        Beta = beta;
    }

    public UnaryKind Kind { get; }

    /// <summary>The first parameter: LeakyRelu's, Elu's and Selu's α, HardSigmoid's slope, Clip's lower bound.</summary>
    public float Alpha { get; }

    /// <summary>The second parameter: Selu's γ, HardSigmoid's offset, Clip's upper bound.</summary>
    public float Beta { get; }
}

/// <summary>
/// Element-wise operations of two operands; PRelu is x for x ≥ 0 and x·slope below, the slope the right operand.
/// Comparisons and logical operators give booleans as 1 and 0 (a boolean operand is true where it is not 0).
/// </summary>
internal enum BinaryKind { Add, Sub, Mul, Div, Pow, Max, Min, PRelu, Equal, Greater, Less, GreaterOrEqual, LessOrEqual, And, Or, Xor }

/// <summary>An elementwise operation of two operands with NumPy broadcasting (shapes aligned from the right).</summary>
internal sealed class BinaryLayer : Layer
{
    public BinaryLayer(string name, BinaryKind kind, Operand left, Operand right, int[] outputShape)
        : base(name, kind.ToString(), left.Shape, outputShape)
    {
        Kind = kind;
        Left = left;
        Right = right;
    }

    public BinaryKind Kind { get; }
    public Operand Left { get; }
    public Operand Right { get; }

    /// <summary>The broadcast shape of two shapes, or null where they do not broadcast.</summary>
    public static int[]? Broadcast(int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var shape = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1) return null;
            shape[i] = Math.Max(da, db);
        }
        return shape;
    }
}

/// <summary>Layer normalization over the last axis: (x − mean)/√(var + ε)·γ + β.</summary>
internal sealed class LayerNormLayer : Layer
{
    public LayerNormLayer(string name, int[] shape, float[] gamma, float[] beta, float epsilon)
        : base(name, "LayerNormalization", shape, shape)
    {
        Gamma = gamma;
        Beta = beta;
        Epsilon = epsilon;
    }

    public float[] Gamma { get; }
    public float[] Beta { get; }
    public float Epsilon { get; }
    public int Length => InputShape[InputShape.Length - 1];
    public int Rows => InputLength / Length;
}

/// <summary>
/// A product of two computed values, [batch…, M, K] × [batch…, K, N] → [batch…, M, N] (attention's Q·Kᵀ and
/// P·V); the batch dimensions are equal, or the right side is a single matrix.
/// </summary>
internal sealed class MatMulLayer : Layer
{
    public MatMulLayer(string name, int[] left, int[] right, int[] output) : base(name, "MatMul", left, output) => RightShape = right;

    public int[] RightShape { get; }
    public int M => InputShape[InputShape.Length - 2];
    public int K => InputShape[InputShape.Length - 1];
    public int N => RightShape[RightShape.Length - 1];
    public int Batch => Shape.Length(InputShape) / (M * K);
    public bool RightIsShared => Shape.Length(RightShape) == K * N;
}

/// <summary>A permutation of the axes: output axis i is input axis Perm[i].</summary>
internal sealed class TransposeLayer : Layer
{
    public TransposeLayer(string name, int[] input, int[] perm) : base(name, "Transpose", input, perm.Select(p => input[p]).ToArray()) => Perm = perm;

    public int[] Perm { get; }
}

internal enum ReduceKind { Mean, Sum, Max, Min }

/// <summary>The mean, sum, largest or smallest value over one axis, which is kept as length 1 or dropped.</summary>
internal sealed class ReduceLayer : Layer
{
    public ReduceLayer(string name, ReduceKind kind, int[] input, int axis, bool keepDims)
        : base(name, "Reduce" + kind, input, keepDims
            ? input.Select((d, i) => i == axis ? 1 : d).ToArray()
            : input.Where((_, i) => i != axis).DefaultIfEmpty(1).ToArray())
    {
        Kind = kind;
        Axis = axis;
    }

    public ReduceKind Kind { get; }
    public int Axis { get; }
    public int Outer => InputShape.Take(Axis).Aggregate(1, (a, b) => a * b);
    public int Reduced => InputShape[Axis];
    public int Inner => InputShape.Skip(Axis + 1).Aggregate(1, (a, b) => a * b);
}

/// <summary>Operands joined along one axis.</summary>
internal sealed class ConcatLayer : Layer
{
    public ConcatLayer(string name, Operand[] parts, int axis, int[] output) : base(name, "Concat", parts[0].Shape, output)
    {
        Parts = parts;
        Axis = axis;
    }

    public Operand[] Parts { get; }
    public int Axis { get; }
    public int Outer => OutputShape.Take(Axis).Aggregate(1, (a, b) => a * b);

    /// <summary>The number of contiguous values a part contributes per outer index.</summary>
    public int Chunk(Operand part) => part.Shape.Skip(Axis).Aggregate(1, (a, b) => a * b);
}

/// <summary>
/// Rows of a constant table picked by constant indices (ONNX Gather on axis 0): a learned position or token
/// embedding. The table is a weight like any other, quantized per row (each row is a channel) and protected by
/// TAC; the indices are baked.
/// </summary>
internal sealed class EmbeddingLayer : WeightLayer
{
    /// <param name="indices">The rows picked, baked; null when they are read at run time from the layer's input (an integer graph input).</param>
    public EmbeddingLayer(string name, float[] table, int rows, int width, int[]? indices, int[] indexShape)
        : base(name, "Gather", new[] { rows, width }, indexShape.Concat(new[] { width }).ToArray(), table, new float[rows], rows)
    {
        Indices = indices;
        Width = width;
        Count = Shape.Length(indexShape);
    }

    /// <summary>The rows picked when they are known at build time; null when the input holds them.</summary>
    public int[]? Indices { get; }
    public int Width { get; }

    /// <summary>The rows each inference reads.</summary>
    public int Count { get; }

    /// <summary>The table's rows.</summary>
    public int Rows => Channels;

    /// <summary>How often each table entry is read per inference, on average over the rows.</summary>
    public override int Reuse => Math.Max(1, Count / Channels);
}

/// <summary>
/// A copy that picks, along every axis independently, which input index each output index reads: Slice (start
/// and step), Pad (an index before or after the input reads the fill value, or the reflected or edge index),
/// Tile (the index modulo the size) and each output of Split. <see cref="Sources"/>[axis][i] is the input index
/// output index i reads on that axis, or −1 for the fill value.
/// </summary>
internal sealed class AxisMapLayer : Layer
{
    public AxisMapLayer(string name, string op, int[] input, int[][] sources, float fill)
        : base(name, op, input, sources.Select(s => s.Length).ToArray())
    {
        Sources = sources;
        Fill = fill;
    }

    public int[][] Sources { get; }
    public float Fill { get; }

    /// <summary>Whether some output reads the fill value (constant padding).</summary>
    public bool Fills => Sources.Any(s => s.Contains(-1));
}

/// <summary>
/// Instance normalization over (N, C, positions...): each image's channel plane normalized by its own mean and
/// variance, then scaled and shifted per channel.
/// </summary>
internal sealed class InstanceNormLayer : Layer
{
    public InstanceNormLayer(string name, int[] shape, float[] scale, float[] bias, float epsilon)
        : base(name, "InstanceNormalization", shape, shape)
    {
        Scale = scale;
        Bias = bias;
        Epsilon = epsilon;
    }

    public float[] Scale { get; }
    public float[] Bias { get; }
    public float Epsilon { get; }
    public int Images => InputShape[0];
    public int Channels => InputShape[1];

    /// <summary>The planes normalized on their own: every image's every channel.</summary>
    public int Planes => Images * Channels;
    public int Plane => InputLength / Planes;
}

/// <summary>Where: the first operand (a boolean, true where not 0) picks the second or the third, all three broadcast.</summary>
internal sealed class WhereLayer : Layer
{
    public WhereLayer(string name, Operand condition, Operand whenTrue, Operand whenFalse, int[] output)
        : base(name, "Where", condition.Shape, output)
    {
        Condition = condition;
        WhenTrue = whenTrue;
        WhenFalse = whenFalse;
    }

    public Operand Condition { get; }
    public Operand WhenTrue { get; }
    public Operand WhenFalse { get; }

    public Operand[] Operands => new[] { Condition, WhenTrue, WhenFalse };
}
