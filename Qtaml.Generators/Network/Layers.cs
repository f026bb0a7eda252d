using System;

namespace Qtaml.Generators.Network;

/// <summary>
/// The network as Qtaml compiles it: layers in evaluation order, each reading earlier values. Value 0 is the
/// network's input and value i + 1 is the output of layer i, so a layer can only read what is already computed.
/// Most networks are chains (each layer reads the one before); a transformer is not (residual connections,
/// attention reads three projections). Shapes are batch-1 and row-major; the batch dimension is dropped.
/// </summary>
internal sealed class NetworkGraph
{
    public NetworkGraph(int[] inputShape, Layer[] layers, int outputValue)
    {
        InputShape = inputShape;
        Layers = layers;
        OutputValue = outputValue;
    }

    public NetworkGraph(int[] inputShape, Layer[] layers) : this(inputShape, layers, layers.Length) { }

    public int[] InputShape { get; }
    public Layer[] Layers { get; }

    /// <summary>The value the network returns.</summary>
    public int OutputValue { get; }

    public int InputLength => Shape.Length(InputShape);
    public int OutputLength => Shape.Length(ValueShape(OutputValue));

    public int[] ValueShape(int value) => value == 0 ? InputShape : Layers[value - 1].OutputShape;

    /// <summary>Whether every layer reads only the one before it and the last one is the output.</summary>
    public bool IsChain
    {
        get
        {
            for (int i = 0; i < Layers.Length; i++)
                if (Layers[i].Inputs.Length != 1 || Layers[i].Inputs[0] != i) return false;
            return OutputValue == Layers.Length;
        }
    }
}

internal static class Shape
{
    public static int Length(int[] shape) => (int)LongLength(shape);

    /// <summary>The element count without overflow: every factor is capped so a hostile shape cannot wrap around.</summary>
    public static long LongLength(int[] shape)
    {
        long n = 1;
        foreach (int d in shape) n = Math.Min(n * Math.Max(d, 0), 1L << 40);
        return n;
    }

    public static string Format(int[] shape) => "[" + string.Join(", ", shape) + "]";
}

internal abstract class Layer
{
    protected Layer(string name, string op, int[] inputShape, int[] outputShape)
    {
        Name = name;
        Operator = op;
        InputShape = inputShape;
        OutputShape = outputShape;
    }

    public string Name { get; }
    public string Operator { get; }

    /// <summary>The values this layer reads (see <see cref="NetworkGraph"/>), set as the builder adds it.</summary>
    public int[] Inputs { get; set; } = Array.Empty<int>();

    /// <summary>The shape of the first input.</summary>
    public int[] InputShape { get; }
    public int[] OutputShape { get; }
    public int InputLength => Shape.Length(InputShape);
    public int OutputLength => Shape.Length(OutputShape);
}

/// <summary>A layer with a weight tensor: one output channel per row of <see cref="Weights"/>.</summary>
internal abstract class WeightLayer : Layer
{
    protected WeightLayer(string name, string op, int[] inputShape, int[] outputShape, float[] weights, float[] bias, int channels)
        : base(name, op, inputShape, outputShape)
    {
        Weights = weights;
        Bias = bias;
        Channels = channels;
    }

    /// <summary>Row-major, one row per output channel.</summary>
    public float[] Weights { get; set; }
    public float[] Bias { get; set; }
    public int Channels { get; }
    public int WeightsPerChannel => Weights.Length / Channels;

    /// <summary>How many times each weight is used per inference (output positions for a convolution, 1 for a dense layer).</summary>
    public abstract int Reuse { get; }

    /// <summary>Folds a per-channel affine map y' = a·y + c (a batch normalization) into the weights.</summary>
    public void FoldAffine(float[] a, float[] c)
    {
        int per = WeightsPerChannel;
        for (int ch = 0; ch < Channels; ch++)
        {
            for (int i = 0; i < per; i++) Weights[ch * per + i] *= a[ch];
            Bias[ch] = Bias[ch] * a[ch] + c[ch];
        }
    }
}

/// <summary>
/// y = W·x + b, W of shape [Out, In], applied to the last axis: a flat input is one row, a [tokens, In] input
/// is <see cref="Rows"/> rows that share the weights (a transformer's projections).
/// </summary>
internal sealed class DenseLayer : WeightLayer
{
    public DenseLayer(string name, string op, int inputs, int outputs, float[] weights, float[] bias, int[]? leading = null)
        : base(name, op, With(leading, inputs), With(leading, outputs), weights, bias, outputs)
    {
        InputCount = inputs;
        Outputs = outputs;
        Rows = leading is null ? 1 : Shape.Length(leading);
    }

    public int InputCount { get; }
    public int Outputs { get; }
    public int Rows { get; }
    public override int Reuse => Rows;

    /// <summary>
    /// Whether the weight image holds this layer's codes input-major ([In][Out]) rather than in the file's
    /// [Out][In] order: a layer applied to many rows dequantizes its codes once per call into an [In][Out] table,
    /// and in that order the conversion is a run of whole vectors. The fault model does not care where a code
    /// sits within its layer.
    /// </summary>
    public bool StoresInputMajor => Rows > 1;

    /// <summary>Where code <paramref name="index"/> of the [Out][In] weights sits in the weight image's layer.</summary>
    public int StoredPosition(int index) => StoresInputMajor ? index % InputCount * Outputs + index / InputCount : index;

    private static int[] With(int[]? leading, int last)
    {
        if (leading is null) return new[] { last };
        var shape = new int[leading.Length + 1];
        Array.Copy(leading, shape, leading.Length);
        shape[leading.Length] = last;
        return shape;
    }
}

/// <summary>A sliding 2-D window: its size, its stride, and the padding before the first row and column.</summary>
internal sealed record Window(int KernelH, int KernelW, int StrideH, int StrideW, int PadTop, int PadLeft)
{
    public int Size => KernelH * KernelW;

    public override string ToString() => $"{KernelH}x{KernelW}, stride {StrideH}x{StrideW}, padding {PadTop}/{PadLeft}";
}

/// <summary>2-D convolution, groups = 1, dilation 1; weights [OutC, InC, KH, KW].</summary>
internal sealed class ConvLayer : WeightLayer
{
    public ConvLayer(string name, int[] input, int outChannels, Window window, int outH, int outW, float[] weights, float[] bias)
        : base(name, "Conv", input, new[] { outChannels, outH, outW }, weights, bias, outChannels) => Window = window;

    public Window Window { get; }
    public int InChannels => InputShape[0];
    public int InH => InputShape[1];
    public int InW => InputShape[2];
    public int OutChannels => OutputShape[0];
    public int OutH => OutputShape[1];
    public int OutW => OutputShape[2];
    public override int Reuse => OutH * OutW;

    /// <summary>Output channels the vectorized kernel takes: 8 vectors of 8, its accumulators per output column.</summary>
    public const int MaxVectorChannels = 64;

    /// <summary>
    /// Whether the weight image holds this layer's codes tap-major ([InC·KH·KW][OutC]) rather than in the file's
    /// [OutC][InC·KH·KW] order: the vectorized kernel (up to <see cref="MaxVectorChannels"/> output channels)
    /// converts its codes once per call into a [tap][channel] table, and in that order the conversion is a run
    /// of whole vectors. The fault model does not care where a code sits within its layer.
    /// </summary>
    public bool StoresTapMajor => OutChannels <= MaxVectorChannels;

    /// <summary>Where code <paramref name="index"/> of the [OutC][taps] weights sits in the weight image's layer.</summary>
    public int StoredPosition(int index)
    {
        int taps = InChannels * Window.Size;
        return StoresTapMajor ? index % taps * OutChannels + index / taps : index;
    }
}

internal enum PoolKind { Max, Average }

/// <summary>2-D max or average pooling over (C, H, W).</summary>
internal sealed class PoolLayer : Layer
{
    public PoolLayer(string name, PoolKind kind, int[] input, Window window, int outH, int outW, bool countIncludePad)
        : base(name, kind == PoolKind.Max ? "MaxPool" : "AveragePool", input, new[] { input[0], outH, outW })
    {
        Kind = kind;
        Window = window;
        CountIncludePad = countIncludePad;
    }

    public PoolKind Kind { get; }
    public Window Window { get; }
    public bool CountIncludePad { get; }
}

/// <summary>max(x, 0), elementwise.</summary>
internal sealed class ReluLayer : Layer
{
    public ReluLayer(string name, int[] shape) : base(name, "Relu", shape, shape) { }
}

/// <summary>Softmax over the last axis (the whole vector when it is flat).</summary>
internal sealed class SoftmaxLayer : Layer
{
    public SoftmaxLayer(string name, int[] shape) : base(name, "Softmax", shape, shape) { }

    public int Length => InputShape[InputShape.Length - 1];
    public int Rows => InputLength / Length;
}

/// <summary>A change of shape that leaves the row-major data as it is (Flatten, Reshape).</summary>
internal sealed class ReshapeLayer : Layer
{
    public ReshapeLayer(string name, string op, int[] input, int[] output) : base(name, op, input, output)
    {
        if (Shape.Length(input) != Shape.Length(output)) throw new ArgumentException("A reshape keeps the element count.");
    }
}
