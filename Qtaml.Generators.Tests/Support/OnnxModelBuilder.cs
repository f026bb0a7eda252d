using Qtaml.Generators.Onnx.Schema;
using Qtaml.Tools;

namespace Qtaml.Generators.Tests.Support;

/// <summary>
/// Writes small ONNX models for tests with the generator's own schema subset: a chain of nodes over one
/// float input, weights as initializers. ONNX Runtime loading the result checks the writer too.
/// </summary>
internal sealed class OnnxModelBuilder
{
    private readonly GraphProto _graph = new() { Name = "test" };
    private readonly Random _random;
    private string _current = "input";
    private int _counter;

    public OnnxModelBuilder(long[] inputShape, int seed)
    {
        _random = new Random(seed);
        InputShape = inputShape;
        _graph.Input.Add(OnnxProto.Value("input", inputShape.Select(d => (long?)d).ToArray()));
    }

    public long[] InputShape { get; }

    /// <summary>Makes the graph's input int64 (token ids): only a Gather may read it.</summary>
    public OnnxModelBuilder WithInt64Input() => WithInputType(7);

    /// <summary>Declares the graph's input of another ONNX element type (7 int64, 11 double).</summary>
    public OnnxModelBuilder WithInputType(int elemType)
    {
        _graph.Input[0].Type.TensorType.ElemType = elemType;
        return this;
    }

    /// <summary>Declares every output added so far of another ONNX element type.</summary>
    public OnnxModelBuilder WithOutputType(int elemType)
    {
        foreach (ValueInfoProto output in _graph.Output) output.Type.TensorType.ElemType = elemType;
        return this;
    }

    /// <summary>The model as written so far (after <see cref="Build(long[], int)"/>, to change its declarations).</summary>
    public byte[] Serialize(int opset = 13) => OnnxProto.Model(_graph, "qtaml-tests", opset);

    /// <summary>Every layer added, with its float weights, for the tests' own reference computations.</summary>
    public List<(string Op, float[] Weights, long[] Dims, float[] Bias)> WeightLayers { get; } = new();

    /// <summary>The chain as the test's reference interpreter sees it (<see cref="QuantizationBound"/>).</summary>
    public List<ReferenceOp> Ops { get; } = new();

    public float[] RandomTensor(int count, double scale) => Enumerable.Range(0, count).Select(_ => (float)((_random.NextDouble() * 2 - 1) * scale)).ToArray();

    public string Initializer(string name, long[] dims, float[] values) => OnnxProto.Tensor(_graph, name, dims, values);

    public string Int64Initializer(string name, long[] values) => OnnxProto.Int64Tensor(_graph, name, values);

    public string Int64Initializer(string name, long[] dims, long[] values) => OnnxProto.Int64Tensor(_graph, name, dims, values);

    /// <summary>An int64 initializer of rank 0 (a scalar index or bound).</summary>
    public string Int64Scalar(string name, long value)
    {
        var tensor = new TensorProto { Name = name, DataType = 7 };
        tensor.Int64Data.Add(value);
        _graph.Initializer.Add(tensor);
        return name;
    }

    public OnnxModelBuilder Node(string op, IEnumerable<string> extraInputs, params AttributeProto[] attributes)
    {
        string output = op.ToLowerInvariant() + "_" + _counter++;
        var node = new NodeProto { OpType = op, Name = output + "_node" };
        node.Input.Add(_current);
        node.Input.Add(extraInputs);
        node.Output.Add(output);
        node.Attribute.Add(attributes);
        _graph.Node.Add(node);
        _current = output;
        return this;
    }

    public OnnxModelBuilder Gemm(int inputs, int outputs, double scale = 0.5)
    {
        float[] w = RandomTensor(inputs * outputs, scale), b = RandomTensor(outputs, 0.1);
        string id = "gemm" + _counter;
        WeightLayers.Add(("Gemm", w, new long[] { outputs, inputs }, b));
        Ops.Add(new ReferenceOp.Dense(w, b, outputs, inputs));
        return Node("Gemm", new[] { Initializer(id + "_w", new long[] { outputs, inputs }, w), Initializer(id + "_b", new long[] { outputs }, b) }, Int("transB", 1));
    }

    public OnnxModelBuilder MatMulAdd(int inputs, int outputs, double scale = 0.5)
    {
        float[] w = RandomTensor(inputs * outputs, scale), b = RandomTensor(outputs, 0.1);
        string id = "mm" + _counter;
        // MatMul's weight is [inputs, outputs]; record it as [outputs, inputs] for the reference.
        var transposed = new float[w.Length];
        for (int i = 0; i < inputs; i++) for (int o = 0; o < outputs; o++) transposed[o * inputs + i] = w[i * outputs + o];
        WeightLayers.Add(("MatMul", transposed, new long[] { outputs, inputs }, b));
        Ops.Add(new ReferenceOp.Dense(transposed, b, outputs, inputs));
        Node("MatMul", new[] { Initializer(id + "_w", new long[] { inputs, outputs }, w) });
        return Node("Add", new[] { Initializer(id + "_b", new long[] { outputs }, b) });
    }

    public OnnxModelBuilder Conv(int inChannels, int outChannels, int kernel, int stride = 1, int pad = 0, double scale = 0.5)
    {
        float[] w = RandomTensor(outChannels * inChannels * kernel * kernel, scale), b = RandomTensor(outChannels, 0.1);
        string id = "conv" + _counter;
        var dims = new long[] { outChannels, inChannels, kernel, kernel };
        WeightLayers.Add(("Conv", w, dims, b));
        Ops.Add(new ReferenceOp.Conv(w, b, outChannels, inChannels, kernel, stride, pad));
        return Node("Conv", new[] { Initializer(id + "_w", dims, w), Initializer(id + "_b", new long[] { outChannels }, b) },
            Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride), Ints("pads", pad, pad, pad, pad));
    }

    /// <summary>The value the next node reads: keep it to read it again later (a residual connection).</summary>
    public string Current => _current;

    /// <summary>
    /// A 1-D or 2-D convolution of any grouping and dilation (the kernel's length gives the rank); only ONNX Runtime
    /// serves as its reference.
    /// </summary>
    public OnnxModelBuilder ConvNd(int inChannels, int outChannels, int[] kernel, int[] strides, int[] pads, int[] dilations, int group = 1, double scale = 0.5)
    {
        int taps = kernel.Aggregate(1, (a, b) => a * b);
        float[] w = RandomTensor(outChannels * inChannels / group * taps, scale), b = RandomTensor(outChannels, 0.1);
        string id = "conv" + _counter;
        long[] dims = new long[] { outChannels, inChannels / group }.Concat(kernel.Select(k => (long)k)).ToArray();
        WeightLayers.Add(("Conv", w, dims, b));
        Ops.Add(new ReferenceOp.Unsupported("general Conv"));
        return Node("Conv", new[] { Initializer(id + "_w", dims, w), Initializer(id + "_b", new long[] { outChannels }, b) },
            Ints("kernel_shape", kernel.Select(k => (long)k).ToArray()), Ints("strides", strides.Select(k => (long)k).ToArray()),
            Ints("pads", pads.Select(k => (long)k).ToArray()), Ints("dilations", dilations.Select(k => (long)k).ToArray()), Int("group", group));
    }

    /// <summary>The current value plus an earlier one (a residual connection).</summary>
    public OnnxModelBuilder AddValue(string earlier)
    {
        Ops.Add(new ReferenceOp.Unsupported("Add of two values"));
        return Node("Add", new[] { earlier });
    }

    /// <summary>A pooling of any rank (the kernel's length gives it); only ONNX Runtime serves as its reference.</summary>
    public OnnxModelBuilder PoolNd(string op, int[] kernel, int[] strides)
    {
        Ops.Add(new ReferenceOp.Unsupported(op));
        return Node(op, Array.Empty<string>(), Ints("kernel_shape", kernel.Select(k => (long)k).ToArray()), Ints("strides", strides.Select(k => (long)k).ToArray()));
    }

    public OnnxModelBuilder BatchNormalization(int channels)
    {
        Ops.Add(new ReferenceOp.Unsupported("BatchNormalization"));
        string id = "bn" + _counter;
        float[] gamma = RandomTensor(channels, 0.5).Select(v => v + 1f).ToArray(), beta = RandomTensor(channels, 0.2);
        float[] mean = RandomTensor(channels, 0.2), variance = RandomTensor(channels, 0.3).Select(v => v + 0.5f).ToArray();
        return Node("BatchNormalization", new[]
        {
            Initializer(id + "_g", new long[] { channels }, gamma), Initializer(id + "_b", new long[] { channels }, beta),
            Initializer(id + "_m", new long[] { channels }, mean), Initializer(id + "_v", new long[] { channels }, variance),
        }, Float("epsilon", 1e-5f));
    }

    public OnnxModelBuilder Relu()
    {
        Ops.Add(new ReferenceOp.Relu());
        return Node("Relu", Array.Empty<string>());
    }

    public OnnxModelBuilder Softmax()
    {
        Ops.Add(new ReferenceOp.Softmax());
        return Node("Softmax", Array.Empty<string>(), Int("axis", 1));
    }

    public OnnxModelBuilder Flatten()
    {
        Ops.Add(new ReferenceOp.Flatten());
        return Node("Flatten", Array.Empty<string>(), Int("axis", 1));
    }

    public OnnxModelBuilder Reshape(params long[] shape)
    {
        Ops.Add(new ReferenceOp.Flatten());
        return Node("Reshape", new[] { Int64Initializer("shape" + _counter, shape) });
    }

    /// <summary>A max pooling; with <paramref name="pad"/> &gt; 0 only ONNX Runtime can serve as its reference.</summary>
    public OnnxModelBuilder MaxPool(int kernel, int stride, int pad = 0) => Pool("MaxPool", kernel, stride, pad);

    /// <summary>An average pooling (count_include_pad = 0); with <paramref name="pad"/> &gt; 0 only ONNX Runtime can serve as its reference.</summary>
    public OnnxModelBuilder AveragePool(int kernel, int stride, int pad = 0) => Pool("AveragePool", kernel, stride, pad);

    private OnnxModelBuilder Pool(string op, int kernel, int stride, int pad)
    {
        Ops.Add(pad == 0 ? new ReferenceOp.Pool(op == "MaxPool", kernel, stride) : new ReferenceOp.Unsupported("padded " + op));
        return Node(op, Array.Empty<string>(), Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride), Ints("pads", pad, pad, pad, pad));
    }

    /// <summary>Declares another graph input and returns its name.</summary>
    public string AddInput(string name, long[] shape)
    {
        _graph.Input.Add(OnnxProto.Value(name, shape.Select(d => (long?)d).ToArray()));
        return name;
    }

    /// <summary>
    /// SqueezeNet's Fire module on the current value: a 1x1 squeeze to <paramref name="squeeze"/> channels, then 1x1
    /// and 3x3 expansions side by side, each with a ReLU, joined along the channels.
    /// </summary>
    public OnnxModelBuilder Fire(int inChannels, int squeeze, int expand1, int expand3)
    {
        string squeezed = ConvNd(inChannels, squeeze, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, scale: 0.5).Relu().Current;
        string narrow = ConvNd(squeeze, expand1, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, scale: 0.5).Relu().Current;
        string wide = From(squeezed).ConvNd(squeeze, expand3, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.3).Relu().Current;
        return From(narrow).Node("Concat", new[] { wide }, Int("axis", 1));
    }

    /// <summary>Points the chain at an earlier value, so the next node reads it.</summary>
    public OnnxModelBuilder From(string value)
    {
        _current = value;
        return this;
    }

    /// <summary>A model with several outputs, each a value of the graph and its shape.</summary>
    public byte[] Build((string Value, long[] Shape)[] outputs, int opset = 13)
    {
        foreach ((string value, long[] shape) in outputs) _graph.Output.Add(OnnxProto.Value(value, shape.Select(d => (long?)d).ToArray()));
        return OnnxProto.Model(_graph, "qtaml-tests", opset);
    }

    public byte[] Build(long[] outputShape, int opset = 13)
    {
        _graph.Output.Add(OnnxProto.Value(_current, outputShape.Select(d => (long?)d).ToArray()));
        return OnnxProto.Model(_graph, "qtaml-tests", opset);
    }

    public static AttributeProto Int(string name, long value) => OnnxProto.Int(name, value);

    public static AttributeProto Float(string name, float value) => OnnxProto.Float(name, value);

    public static AttributeProto Ints(string name, params long[] values) => OnnxProto.Ints(name, values);

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, S = Google.Protobuf.ByteString.CopyFromUtf8(value), Type = AttributeProto.Types.AttributeType.String };

    /// <summary>Adds a node as it is (several outputs, say); the chain is not moved.</summary>
    public OnnxModelBuilder Raw(NodeProto node)
    {
        _graph.Node.Add(node);
        return this;
    }
}
