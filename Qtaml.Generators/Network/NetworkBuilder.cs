using System;
using System.Collections.Generic;
using System.Linq;

namespace Qtaml.Generators.Network;

/// <summary>
/// Builds a <see cref="NetworkGraph"/> layer by layer, checking each layer against the shapes it reads; the
/// weight-file readers (ONNX, safetensors) only translate their format into these calls. The single-input
/// calls read <see cref="Current"/>, the value the last layer produced unless a reader points it elsewhere;
/// the rest name their inputs. Every failure is a <see cref="ModelReadException"/> naming the layer.
/// </summary>
internal sealed class NetworkBuilder
{
    /// <summary>The most elements one computed value may hold (a transformer's attention scores included).</summary>
    public const long MaxValueElements = 4L * 1024 * 1024;

    private static readonly int[] Scalar = { 1 };

    private readonly string _path;
    private readonly int[] _inputShape;
    private readonly List<Layer> _layers = new();

    public NetworkBuilder(string path, int[] inputShape)
    {
        _path = path;
        _inputShape = inputShape;
    }

    /// <summary>The value the next single-input layer reads: 0 is the network input, i + 1 the output of layer i.</summary>
    public int Current { get; set; }

    /// <summary>The shape of <see cref="Current"/>.</summary>
    public int[] Shape => ShapeOf(Current);

    public int[] ShapeOf(int value) => value == 0 ? _inputShape : _layers[value - 1].OutputShape;

    public int LayerCount => _layers.Count;

    public Layer LayerAt(int index) => _layers[index];

    public Operand ValueOperand(int value) => Operand.OfValue(value, ShapeOf(value));

    /// <summary>The layer that computes a value, or null for the network input.</summary>
    public Layer? Producer(int value) => value == 0 ? null : _layers[value - 1];

    public ModelReadException Mismatch(string layer, string reason) => new(Diagnostics.ShapeMismatch, _path, layer, reason);

    public NetworkGraph Build() => Build(_layers.Count);

    public NetworkGraph Build(int outputValue) => new(_inputShape, _layers.ToArray(), outputValue);

    /// <param name="float64Ports">The ports the file declares float64 (computed in float32).</param>
    public NetworkGraph Build(GraphPort[] inputs, GraphPort[] outputs, string[]? float64Ports = null) =>
        new(inputs, _inputShape, _layers.ToArray(), outputs) { Float64Ports = float64Ports ?? Array.Empty<string>() };

    /// <summary>A graph input after the first, as a value of its own.</summary>
    public int GraphInput(string name, int index, int[] shape) => Add(new GraphInputLayer(name, index, shape), Array.Empty<int>());

    private int Add(Layer layer) => Add(layer, new[] { Current });

    /// <summary>The condition the layers added now run under (inside a branch of a data-dependent If), or null.</summary>
    public Guard? Guard { get; set; }

    private int Add(Layer layer, int[] inputs)
    {
        layer.Guard = Guard;
        if (Network.Shape.LongLength(layer.OutputShape) > MaxValueElements || layer.OutputShape.Any(d => d < 1))
            throw Mismatch(layer.Name, "its output " + Network.Shape.Format(layer.OutputShape) + " is empty or larger than Qtaml supports (" + MaxValueElements + " values)");
        layer.Inputs = inputs;
        _layers.Add(layer);
        Current = _layers.Count;
        return Current;
    }

    /// <summary>
    /// y = W·x + b with W given as [outputs, inputs], row-major, applied to the last axis of the input: every row of
    /// a [rows, features] value (Gemm's [N, K], MatMul's [..., tokens, features]), or a flat vector.
    /// </summary>
    public void Dense(string name, string op, float[] weights, int outputs, int inputs, float[]? bias)
    {
        if (op == "Gemm" && Shape.Length > 2) throw Mismatch(name, "Gemm needs a matrix [rows, features] but gets " + Network.Shape.Format(Shape) + "; add a Flatten");
        int last = Shape[Shape.Length - 1];
        if (inputs != last) throw Mismatch(name, "the " + op + " weight expects " + inputs + " inputs but the previous layer gives " + last);
        if (weights.Length != (long)outputs * inputs) throw Mismatch(name, "the " + op + " weight does not hold " + outputs + " x " + inputs + " values");
        if (bias is not null && bias.Length != outputs) throw Mismatch(name, "the " + op + " bias has " + bias.Length + " values but there are " + outputs + " outputs");
        Add(new DenseLayer(name, op, inputs, outputs, weights, bias ?? new float[outputs], Shape.Length > 1 ? Shape.Take(Shape.Length - 1).ToArray() : null));
    }

    /// <summary>
    /// A 1-D, 2-D or 3-D convolution of an (N, C, L), (N, C, H, W) or (N, C, D, H, W) input with weights
    /// [OutC, InC / groups, (KD,) KH, KW] ([OutC, InC / groups, KW] for 1-D); pads are (top, left, bottom, right),
    /// then (front, back) for 3-D.
    /// </summary>
    public void Conv(string name, float[] weights, int[] dims, float[]? bias, Window window, int[] pads, int groups = 1)
    {
        int rank = Spatial(name, "Conv");
        int channels = Shape[1];
        if (dims.Length != rank + 2) throw Mismatch(name, "the Conv weight has shape " + Network.Shape.Format(dims) + " but the input " + Network.Shape.Format(Shape) + " is " + rank + "-D");
        if (groups < 1 || channels % groups != 0 || dims[0] % groups != 0)
            throw Mismatch(name, "group = " + groups + " must divide the " + channels + " input channels and the " + dims[0] + " output channels");
        if ((long)dims[1] * groups != channels)
            throw Mismatch(name, "the Conv weight has shape " + Network.Shape.Format(dims) + " but the input has " + channels + " channels" + (groups > 1 ? " in " + groups + " groups" : ""));
        int outC = dims[0];
        if (bias is not null && bias.Length != outC) throw Mismatch(name, "the Conv bias has " + bias.Length + " values but there are " + outC + " output channels");
        int[] outSpatial = OutputSize(name, "Conv", window, pads);
        Add(new ConvLayer(name, Shape, outC, window, outSpatial, weights, bias ?? new float[outC], groups));
    }

    /// <summary>1-D, 2-D or 3-D pooling; pads are (top, left, bottom, right), then (front, back) for 3-D.</summary>
    /// <param name="ceil">ceil_mode: a last, partial window where the input (with its begin padding) leaves one to start; its taps outside the input are skipped.</param>
    public void Pool(string name, PoolKind kind, Window window, int[] pads, bool countIncludePad, bool ceil = false)
    {
        string op = kind == PoolKind.Max ? "MaxPool" : "AveragePool";
        Spatial(name, op);
        Add(new PoolLayer(name, kind, Shape, window, OutputSize(name, op, window, pads, ceil), countIncludePad));
    }

    /// <summary>The number of spatial axes of the current value, (N, C, spatial...), which a window operator needs to be 1 to <paramref name="most"/>.</summary>
    public int Spatial(string name, string op, int most = 3)
    {
        if (Shape.Length < 3 || Shape.Length > most + 2)
            throw Mismatch(name, op + " needs an (N, C, L)" + (most >= 2 ? ", (N, C, H, W)" : "") + (most >= 3 ? " or (N, C, D, H, W)" : "") + " input but gets " + Network.Shape.Format(Shape)
                + (Shape.Length == 5 ? " (3-D windows are not supported here)" : ""));
        return Shape.Length - 2;
    }

    /// <summary>The output's spatial shape: where the (dilated) window fits in the padded input.</summary>
    private int[] OutputSize(string name, string op, Window window, int[] pads, bool ceil = false)
    {
        bool volumetric = Shape.Length == 5;
        if (pads.Length != (volumetric ? 6 : 4) || pads.Any(p => p < 0 || p > 1 << 16)) throw Mismatch(name, op + " pads must be between 0 and 65536");
        if (window.KernelH < 1 || window.KernelW < 1 || window.StrideH < 1 || window.StrideW < 1 || window.DilationH < 1 || window.DilationW < 1
            || window.KernelD < 1 || window.StrideD < 1 || window.DilationD < 1
            || window.KernelH > 1 << 16 || window.KernelW > 1 << 16 || window.DilationH > 1 << 16 || window.DilationW > 1 << 16
            || window.KernelD > 1 << 16 || window.DilationD > 1 << 16)
            throw Mismatch(name, "the " + op + " kernel, strides and dilations must be positive and at most 65536");
        int inD = SpatialAxes.Depth(Shape), inH = SpatialAxes.Height(Shape), inW = Shape[Shape.Length - 1];
        int padFront = volumetric ? pads[4] : 0, padBack = volumetric ? pads[5] : 0;
        // A kernel copies one image into a zero border of this size (channels padded to 8): bounded like a value.
        long padded = ((long)inD + padFront + padBack) * ((long)inH + pads[0] + pads[2]) * ((long)inW + pads[1] + pads[3]) * ((Shape[1] + 7L) / 8 * 8);
        if (padded > 4 * MaxValueElements)
            throw Mismatch(name, "its padded input (" + (volumetric ? (inD + (long)padFront + padBack) + " x " : "") + (inH + (long)pads[0] + pads[2]) + " x " + (inW + (long)pads[1] + pads[3]) + " positions of " + Shape[1] + " channels) is larger than Qtaml supports (" + 4 * MaxValueElements + " values)");
        long outD = Positions(inD, padFront, padBack, window.ExtentD, window.StrideD, ceil);
        long outH = Positions(inH, pads[0], pads[2], window.ExtentH, window.StrideH, ceil);
        long outW = Positions(inW, pads[1], pads[3], window.ExtentW, window.StrideW, ceil);
        if (outD < 1 || outH < 1 || outW < 1) throw Mismatch(name, "the " + op + " kernel is larger than its padded input");
        return Shape.Length switch { 5 => new[] { (int)outD, (int)outH, (int)outW }, 4 => new[] { (int)outH, (int)outW }, _ => new[] { (int)outW } };
    }

    /// <summary>
    /// Window positions along one axis: where the window fits in the padded input, or with ceil_mode one more for a
    /// partial last window, unless that window would start past the input and its begin padding (ONNX, as PyTorch).
    /// </summary>
    private static long Positions(long size, int begin, int end, long extent, int stride, bool ceil)
    {
        long span = size + begin + end - extent;
        if (span < 0) return 0;
        if (!ceil) return span / stride + 1;
        long positions = (span + stride - 1) / stride + 1;
        return (positions - 1) * stride >= size + begin ? positions - 1 : positions;
    }

    public void Relu(string name) => Add(new ReluLayer(name, Shape));

    /// <summary>Softmax over the last axis.</summary>
    public void Softmax(string name, bool log = false) => Add(new SoftmaxLayer(name, Shape, log));

    /// <summary>Flatten at <paramref name="axis"/>: the axes before it as rows, those from it as columns, [rows, columns].</summary>
    public void Flatten(string name, int axis = 1)
    {
        if (axis < 0 || axis > Shape.Length) throw Mismatch(name, "Flatten axis " + axis + " is outside the " + Shape.Length + " axes of " + Network.Shape.Format(Shape));
        Add(new ReshapeLayer(name, "Flatten", Shape, new[] { Network.Shape.Length(Shape.Take(axis).ToArray()), Network.Shape.Length(Shape.Skip(axis).ToArray()) }));
    }

    public void Reshape(string name, int[] shape) => Add(new ReshapeLayer(name, "Reshape", Shape, shape));

    /// <summary>The weight layer the next affine fold (a bias Add, a batch normalization) applies to: the producer of <see cref="Current"/>.</summary>
    public WeightLayer PreviousWeightLayer(string name, string what)
    {
        if (Producer(Current) is not WeightLayer previous || previous is EmbeddingLayer)
            throw Mismatch(name, what + " is folded into the Conv or Gemm right before it, and there is none");
        return previous;
    }

    public int Unary(string name, UnaryKind kind, float alpha = 0, float beta = 0)
    {
        // Clip's bounds may be infinite (no bound on that side); every other parameter is a finite number.
        if (kind == UnaryKind.Clip ? float.IsNaN(alpha) || float.IsNaN(beta) : !IsFinite(alpha) || !IsFinite(beta)) throw Mismatch(name, kind + "'s parameters must be " + (kind == UnaryKind.Clip ? "numbers" : "finite"));
        return Add(new UnaryLayer(name, kind, Shape, alpha, beta));
    }

    /// <summary>Neither NaN nor infinite: what every operator parameter but a Clip bound must be.</summary>
    public static bool IsFinite(float value) => !float.IsNaN(value) && !float.IsInfinity(value);

    public int Binary(string name, BinaryKind kind, Operand left, Operand right)
    {
        int[] shape = BinaryLayer.Broadcast(left.Shape, right.Shape)
            ?? throw Mismatch(name, kind + " of shapes " + Network.Shape.Format(left.Shape) + " and " + Network.Shape.Format(right.Shape) + ", which do not broadcast");
        if (left.IsConstant && right.IsConstant) throw Mismatch(name, kind + " of two constants; fold it when exporting");
        int[] inputs = new[] { left, right }.Where(o => !o.IsConstant).Select(o => o.Value).ToArray();
        return Add(new BinaryLayer(name, kind, left, right, shape), inputs);
    }

    /// <summary>A copy that reads, on every axis, the input index a table gives (Slice, Pad, Tile, Split); see <see cref="AxisMapLayer"/>.</summary>
    public int AxisMap(string name, string op, int[][] sources, float fill = 0)
    {
        int[] shape = Shape;
        if (sources.Length != shape.Length || sources.Where((s, d) => s.Any(i => i < -1 || i >= shape[d])).Any())
            throw Mismatch(name, op + " reads outside its input " + Network.Shape.Format(shape));
        if (sources.Any(s => s.Length == 0)) throw Mismatch(name, op + " makes an empty tensor");
        return Add(new AxisMapLayer(name, op, shape, sources, fill));
    }

    public int InstanceNorm(string name, float[] scale, float[] bias, float epsilon)
    {
        if (Shape.Length < 3) throw Mismatch(name, "InstanceNormalization needs (N, C, positions...) but gets " + Network.Shape.Format(Shape));
        if (scale.Length != Shape[1] || bias.Length != Shape[1]) throw Mismatch(name, "InstanceNormalization has parameters for " + scale.Length + " channels, its input " + Shape[1]);
        if (!(epsilon >= 0)) throw Mismatch(name, "the InstanceNormalization epsilon is negative");
        return Add(new InstanceNormLayer(name, Shape, scale, bias, epsilon));
    }

    public int Where(string name, Operand condition, Operand whenTrue, Operand whenFalse)
    {
        int[] shape = BinaryLayer.Broadcast(condition.Shape, whenTrue.Shape) is { } partial ? BinaryLayer.Broadcast(partial, whenFalse.Shape) ?? Array.Empty<int>() : Array.Empty<int>();
        if (shape.Length == 0 && (condition.Shape.Length > 0 || whenTrue.Shape.Length > 0 || whenFalse.Shape.Length > 0))
            throw Mismatch(name, "Where of shapes " + Network.Shape.Format(condition.Shape) + ", " + Network.Shape.Format(whenTrue.Shape) + " and " + Network.Shape.Format(whenFalse.Shape) + ", which do not broadcast");
        Operand[] operands = { condition, whenTrue, whenFalse };
        if (operands.All(o => o.IsConstant)) throw Mismatch(name, "Where of constants only; fold it when exporting");
        return Add(new WhereLayer(name, condition, whenTrue, whenFalse, shape.Length == 0 ? Scalar : shape), operands.Where(o => !o.IsConstant).Select(o => o.Value).ToArray());
    }

    public int LayerNorm(string name, float[] gamma, float[]? beta, float epsilon)
    {
        int length = Shape[Shape.Length - 1];
        if (gamma.Length != length) throw Mismatch(name, "the LayerNormalization scale has " + gamma.Length + " values but the last axis has " + length);
        if (beta is not null && beta.Length != length) throw Mismatch(name, "the LayerNormalization bias has " + beta.Length + " values but the last axis has " + length);
        if (!(epsilon >= 0)) throw Mismatch(name, "the LayerNormalization epsilon is negative");
        return Add(new LayerNormLayer(name, Shape, gamma, beta ?? new float[length], epsilon));
    }

    /// <summary>The product of two computed values (attention), batched over their leading axes.</summary>
    public int MatMul(string name, int left, int right)
    {
        int[] a = ShapeOf(left), b = ShapeOf(right);
        if (a.Length < 2 || b.Length < 2) throw Mismatch(name, "MatMul of computed values needs matrices, not " + Network.Shape.Format(a) + " and " + Network.Shape.Format(b));
        if (a[a.Length - 1] != b[b.Length - 2]) throw Mismatch(name, "MatMul of " + Network.Shape.Format(a) + " and " + Network.Shape.Format(b) + ": the inner sizes differ");
        bool sameBatch = a.Length == b.Length && a.Take(a.Length - 2).SequenceEqual(b.Take(b.Length - 2));
        bool shared = b.Take(b.Length - 2).All(d => d == 1);
        if (!sameBatch && !shared) throw Mismatch(name, "MatMul of " + Network.Shape.Format(a) + " and " + Network.Shape.Format(b) + ": Qtaml needs equal batch axes or a single right matrix");
        int[] output = a.Take(a.Length - 1).Concat(new[] { b[b.Length - 1] }).ToArray();
        Current = left;
        return Add(new MatMulLayer(name, a, b, output), new[] { left, right });
    }

    public int Transpose(string name, int[] perm)
    {
        if (perm.Length != Shape.Length || perm.OrderBy(p => p).Where((p, i) => p != i).Any())
            throw Mismatch(name, "Transpose perm [" + string.Join(", ", perm) + "] is not a permutation of the " + Shape.Length + " axes of " + Network.Shape.Format(Shape));
        return Add(new TransposeLayer(name, Shape, perm));
    }

    public int Reduce(string name, ReduceKind kind, int axis, bool keepDims)
    {
        if (axis < 0 || axis >= Shape.Length) throw Mismatch(name, "Reduce" + kind + " over axis " + axis + " of " + Network.Shape.Format(Shape));
        return Add(new ReduceLayer(name, kind, Shape, axis, keepDims));
    }

    public int Concat(string name, Operand[] parts, int axis)
    {
        if (parts.Length == 0) throw Mismatch(name, "Concat has no inputs");
        int rank = parts[0].Shape.Length;
        if (axis < 0 || axis >= rank) throw Mismatch(name, "Concat along axis " + axis + " of rank-" + rank + " inputs");
        foreach (Operand part in parts)
            if (part.Shape.Length != rank || part.Shape.Where((d, i) => i != axis && d != parts[0].Shape[i]).Any())
                throw Mismatch(name, "Concat of " + string.Join(" and ", parts.Select(p => Network.Shape.Format(p.Shape))) + ": all but axis " + axis + " must match");
        int[] output = (int[])parts[0].Shape.Clone();
        output[axis] = parts.Sum(p => p.Shape[axis]);
        int[] inputs = parts.Where(p => !p.IsConstant).Select(p => p.Value).ToArray();
        if (inputs.Length == 0) throw Mismatch(name, "Concat of constants only; fold it when exporting");
        return Add(new ConcatLayer(name, parts, axis, output), inputs);
    }

    /// <summary>Rows of a constant table [rows, width] picked by constant indices.</summary>
    public int Embedding(string name, float[] table, int[] dims, long[] indices, int[] indexShape)
    {
        if (dims.Length != 2) throw Mismatch(name, "Gather reads rows of a matrix; the table has shape " + Network.Shape.Format(dims));
        var picked = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            long index = indices[i] < 0 ? indices[i] + dims[0] : indices[i];
            if (index < 0 || index >= dims[0]) throw Mismatch(name, "Gather index " + indices[i] + " is outside the table's " + dims[0] + " rows");
            picked[i] = (int)index;
        }
        return Add(new EmbeddingLayer(name, table, dims[0], dims[1], picked, indexShape), Array.Empty<int>());
    }

    /// <summary>Rows of a constant table [rows, width] picked by the whole numbers an integer graph input holds, read at run time.</summary>
    public int EmbeddingAt(string name, float[] table, int[] dims, int indices)
    {
        if (dims.Length != 2) throw Mismatch(name, "Gather reads rows of a matrix; the table has shape " + Network.Shape.Format(dims));
        return Add(new EmbeddingLayer(name, table, dims[0], dims[1], null, ShapeOf(indices)), new[] { indices });
    }

    /// <summary>Folds y' = (y − mean)·γ/√(var + ε) + β into the previous weight layer.</summary>
    public void FoldBatchNormalization(string name, float[] gamma, float[] beta, float[] mean, float[] variance, float epsilon)
    {
        WeightLayer previous = PreviousWeightLayer(name, "BatchNormalization");
        int channels = previous.Channels;
        if (gamma.Length != channels || beta.Length != channels || mean.Length != channels || variance.Length != channels)
            throw Mismatch(name, "BatchNormalization has parameters for a different number of channels than the " + previous.Channels + " before it");
        (float[] scale, float[] shift) = BatchNormalizationAffine(name, gamma, beta, mean, variance, epsilon);
        previous.FoldAffine(scale, shift);
    }

    /// <summary>BatchNormalization at inference as y = x·scale + shift per channel: scale = γ/√(var + ε), shift = β − scale·mean.</summary>
    public (float[] Scale, float[] Shift) BatchNormalizationAffine(string name, float[] gamma, float[] beta, float[] mean, float[] variance, float epsilon)
    {
        var scale = new float[gamma.Length];
        var shift = new float[gamma.Length];
        for (int ch = 0; ch < gamma.Length; ch++)
        {
            if (!(variance[ch] + epsilon > 0)) throw Mismatch(name, "a BatchNormalization variance plus epsilon is not positive");
            scale[ch] = (float)(gamma[ch] / System.Math.Sqrt(variance[ch] + epsilon));
            shift[ch] = beta[ch] - scale[ch] * mean[ch];
        }
        return (scale, shift);
    }
}
