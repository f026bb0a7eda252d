using System;
using System.Linq;

namespace Qtaml.Generators.Network;

/// <summary>
/// The network as Qtaml compiles it: layers in evaluation order, each reading earlier values. Value 0 is the
/// network's input and value i + 1 is the output of layer i, so a layer can only read what is already computed.
/// Most networks are chains (each layer reads the one before); a transformer is not (residual connections,
/// attention reads three projections). Every value has the static shape the ONNX graph gives it, row-major, and no
/// axis is special: a fixed batch is just the first dimension of the values that have one.
/// </summary>
internal sealed class NetworkGraph
{
    public NetworkGraph(int[] inputShape, Layer[] layers, int outputValue)
        : this(new[] { new GraphPort("input", 0) }, inputShape, layers, new[] { new GraphPort("output", outputValue) }) { }

    public NetworkGraph(int[] inputShape, Layer[] layers) : this(inputShape, layers, layers.Length) { }

    /// <summary>
    /// A graph with named inputs and outputs: input 0 is value 0 of shape <paramref name="inputShape"/>, every
    /// other input the value of a <see cref="GraphInputLayer"/>.
    /// </summary>
    public NetworkGraph(GraphPort[] inputs, int[] inputShape, Layer[] layers, GraphPort[] outputs)
    {
        InputShape = inputShape;
        Layers = layers;
        Inputs = inputs;
        Outputs = outputs;
    }

    /// <summary>The shape of the first input.</summary>
    public int[] InputShape { get; }
    public Layer[] Layers { get; }

    /// <summary>The graph's inputs in the file's order, with the values that hold them.</summary>
    public GraphPort[] Inputs { get; }

    /// <summary>The graph's outputs in the file's order, with the values they return.</summary>
    public GraphPort[] Outputs { get; }

    /// <summary>The ports the file declares float64, computed and passed as float32 (the build says so, QTAML030).</summary>
    public string[] Float64Ports { get; init; } = System.Array.Empty<string>();

    /// <summary>The value the network returns first.</summary>
    public int OutputValue => Outputs[0].Value;

    /// <summary>The first input's and output's lengths.</summary>
    public int InputLength => Shape.Length(InputShape);
    public int OutputLength => Shape.Length(ValueShape(OutputValue));

    /// <summary>The values of every graph input together, in port order: what one calibration row (and the single-span Run) holds.</summary>
    public int AllInputsLength => Inputs.Sum(PortLength);

    public int[] ValueShape(int value) => value == 0 ? InputShape : Layers[value - 1].OutputShape;

    /// <summary>The length of a graph input or output.</summary>
    public int PortLength(GraphPort port) => Shape.Length(ValueShape(port.Value));
}

/// <summary>The condition a layer of an If branch runs under: value <see cref="Value"/> (a boolean, true where not 0) is <see cref="When"/>.</summary>
internal sealed record Guard(int Value, bool When);

/// <summary>
/// What a graph input's values are in the caller's hands: floats, or the integers of an index input (token ids read
/// by a Gather), which the generated Run takes as <c>long</c> or <c>int</c> spans.
/// </summary>
internal enum PortElement
{
    Float,
    Int64,
    Int32,
}

/// <summary>A graph input or output: its name in the file, the value that holds it, and its element type in the generated Run.</summary>
internal sealed record GraphPort(string Name, int Value, PortElement Element = PortElement.Float)
{
    /// <summary>The C# element type of the generated Run's span for this port.</summary>
    public string ClrType => ClrTypeOf(Element);

    /// <summary>The C# element type of a port of <paramref name="element"/>.</summary>
    public static string ClrTypeOf(PortElement element) => element switch { PortElement.Int64 => "long", PortElement.Int32 => "int", _ => "float" };
}

internal static class Shape
{
    public static int Length(int[] shape) => (int)LongLength(shape);

    /// <summary>
    /// An operand's row-major strides over the output's axes (aligned from the right, NumPy broadcasting), 0 where it
    /// is broadcast; over its own shape, its plain strides.
    /// </summary>
    public static int[] BroadcastStrides(int[] shape, int[] output)
    {
        var strides = new int[output.Length];
        int stride = 1;
        for (int d = output.Length - 1; d >= 0; d--)
        {
            int own = d - (output.Length - shape.Length);
            if (own < 0) continue;
            strides[d] = shape[own] == 1 ? 0 : stride;
            stride *= shape[own];
        }
        return strides;
    }

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

    /// <summary>For a layer in a branch of a data-dependent If: it is computed only when this value (a boolean) is <see cref="Guard.When"/>.</summary>
    public Guard? Guard { get; set; }

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

    private static int[] With(int[]? leading, int last)
    {
        if (leading is null) return new[] { last };
        var shape = new int[leading.Length + 1];
        Array.Copy(leading, shape, leading.Length);
        shape[leading.Length] = last;
        return shape;
    }
}

/// <summary>
/// A sliding window: its size, its stride, the padding before the first row and column, and the dilation (the
/// distance between taps), per axis. A 1-D window has height 1; a 2-D one depth 1 (a 3-D one has all three).
/// </summary>
internal sealed record Window(int KernelH, int KernelW, int StrideH, int StrideW, int PadTop, int PadLeft, int DilationH = 1, int DilationW = 1,
    int KernelD = 1, int StrideD = 1, int PadFront = 0, int DilationD = 1)
{
    public int Size => KernelD * KernelH * KernelW;

    /// <summary>The planes, rows and columns the window spans in its input.</summary>
    public int ExtentD => (KernelD - 1) * DilationD + 1;
    public int ExtentH => (KernelH - 1) * DilationH + 1;
    public int ExtentW => (KernelW - 1) * DilationW + 1;

    /// <summary>Whether the window has depth (a 3-D convolution or pooling).</summary>
    public bool IsVolumetric => KernelD > 1 || StrideD > 1 || PadFront > 0;

    public override string ToString() => KernelD > 1 || StrideD > 1 || PadFront > 0 || DilationD > 1
        ? $"{KernelD}x{KernelH}x{KernelW}, stride {StrideD}x{StrideH}x{StrideW}, padding {PadFront}/{PadTop}/{PadLeft}" + (DilationD * DilationH * DilationW != 1 ? $", dilation {DilationD}x{DilationH}x{DilationW}" : "")
        : $"{KernelH}x{KernelW}, stride {StrideH}x{StrideW}, padding {PadTop}/{PadLeft}" + (DilationH * DilationW != 1 ? $", dilation {DilationH}x{DilationW}" : "");
}

/// <summary>
/// A 1-D, 2-D or 3-D convolution, weights [OutC, InC / Groups, (KD,) KH, KW] (KH = 1 for 1-D). Its input and output
/// shapes are the ONNX ones, (N, C, L), (N, C, H, W) or (N, C, D, H, W): <see cref="Images"/> images computed one
/// after another with the same weights; a 1-D one is computed as an image of height 1, a 1-D or 2-D one of depth 1.
/// </summary>
internal sealed class ConvLayer : WeightLayer
{
    public ConvLayer(string name, int[] input, int outChannels, Window window, int[] outSpatial, float[] weights, float[] bias, int groups = 1)
        : base(name, "Conv", input, new[] { input[0], outChannels }.Concat(outSpatial).ToArray(), weights, bias, outChannels)
    {
        Window = window;
        Groups = groups;
    }

    public Window Window { get; }
    public int Groups { get; }

    /// <summary>The images (ONNX axis 0) the layer computes, each on its own.</summary>
    public int Images => InputShape[0];
    public int InChannels => InputShape[1];
    public int InD => SpatialAxes.Depth(InputShape);
    public int InH => SpatialAxes.Height(InputShape);
    public int InW => InputShape[InputShape.Length - 1];
    public int OutChannels => OutputShape[1];
    public int OutD => SpatialAxes.Depth(OutputShape);
    public int OutH => SpatialAxes.Height(OutputShape);
    public int OutW => OutputShape[OutputShape.Length - 1];
    public override int Reuse => Images * OutD * OutH * OutW;

    /// <summary>A 3-D convolution: computed by the direct kernel, over planes.</summary>
    public bool IsVolumetric => InputShape.Length == 5;

    /// <summary>Input channels each output channel reads.</summary>
    public int GroupInChannels => InChannels / Groups;

    /// <summary>The weights of one output channel: its group's input channels times the window.</summary>
    public int TapsPerGroup => GroupInChannels * Window.Size;

    /// <summary>One input channel per output channel, each its own group.</summary>
    public bool IsDepthwise => Groups > 1 && Groups == InChannels && Groups == OutChannels;
}

/// <summary>The spatial axes of an (N, C, spatial...) shape: depth and height are 1 where the shape has no such axis.</summary>
internal static class SpatialAxes
{
    public static int Depth(int[] shape) => shape.Length == 5 ? shape[2] : 1;
    public static int Height(int[] shape) => shape.Length >= 4 ? shape[shape.Length - 2] : 1;
}

internal enum PoolKind { Max, Average }

/// <summary>1-D, 2-D or 3-D max or average pooling over (N, C, L), (N, C, H, W) or (N, C, D, H, W), each of the <see cref="Images"/> on its own.</summary>
internal sealed class PoolLayer : Layer
{
    public PoolLayer(string name, PoolKind kind, int[] input, Window window, int[] outSpatial, bool countIncludePad)
        : base(name, kind == PoolKind.Max ? "MaxPool" : "AveragePool", input, new[] { input[0], input[1] }.Concat(outSpatial).ToArray())
    {
        Kind = kind;
        Window = window;
        CountIncludePad = countIncludePad;
    }

    public PoolKind Kind { get; }
    public Window Window { get; }
    public bool CountIncludePad { get; }
    public int Images => InputShape[0];
    public int Channels => InputShape[1];
    public int InD => SpatialAxes.Depth(InputShape);
    public int InH => SpatialAxes.Height(InputShape);
    public int InW => InputShape[InputShape.Length - 1];
    public int OutD => SpatialAxes.Depth(OutputShape);
    public int OutH => SpatialAxes.Height(OutputShape);
    public int OutW => OutputShape[OutputShape.Length - 1];

    /// <summary>A 3-D pooling: computed over planes.</summary>
    public bool IsVolumetric => InputShape.Length == 5;
}

/// <summary>
/// A graph input after the first: no computation, its value is the span the caller passes for it. (The first
/// input is value 0 and has no layer.)
/// </summary>
internal sealed class GraphInputLayer : Layer
{
    public GraphInputLayer(string name, int index, int[] shape) : base(name, "Input", shape, shape) => Index = index;

    /// <summary>The input's position among the graph's inputs (1 or more).</summary>
    public int Index { get; }
}

/// <summary>max(x, 0), elementwise.</summary>
internal sealed class ReluLayer : Layer
{
    public ReluLayer(string name, int[] shape) : base(name, "Relu", shape, shape) { }
}

/// <summary>Softmax, or its logarithm (LogSoftmax), over the last axis (the whole vector when it is flat).</summary>
internal sealed class SoftmaxLayer : Layer
{
    public SoftmaxLayer(string name, int[] shape, bool log = false) : base(name, log ? "LogSoftmax" : "Softmax", shape, shape) => Log = log;

    /// <summary>ln softmax(x) = x − max − ln Σ e^(x − max), computed as such (not as the log of a rounded softmax).</summary>
    public bool Log { get; }

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
