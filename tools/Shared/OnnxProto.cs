using Google.Protobuf;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Tools;

/// <summary>
/// Building blocks for writing ONNX files with Qtaml's schema subset: initializers, attributes, value infos
/// and the model wrapper. Linked into the training tool, the tests and the benchmarks, each of which compiles
/// the schema (Qtaml.Generators/Onnx/onnx_subset.proto) for itself.
/// </summary>
internal static class OnnxProto
{
    /// <summary>Adds a float32 initializer (little-endian raw data) and returns its name.</summary>
    public static string Tensor(GraphProto graph, string name, long[] dims, float[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = 1 };
        tensor.Dims.Add(dims);
        var raw = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        tensor.RawData = ByteString.CopyFrom(raw);
        graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>Adds an int64 initializer (a shape, say) and returns its name.</summary>
    public static string Int64Tensor(GraphProto graph, string name, long[] values) => Int64Tensor(graph, name, new long[] { values.Length }, values);

    /// <summary>Adds an int64 initializer of any shape (an empty one: a scalar) and returns its name.</summary>
    public static string Int64Tensor(GraphProto graph, string name, long[] dims, long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = 7 };
        tensor.Dims.Add(dims);
        tensor.Int64Data.Add(values);
        graph.Initializer.Add(tensor);
        return name;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, I = value, Type = AttributeProto.Types.AttributeType.Int };

    public static AttributeProto Float(string name, float value) => new() { Name = name, F = value, Type = AttributeProto.Types.AttributeType.Float };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.Add(values);
        return attribute;
    }

    /// <summary>A float tensor's name and shape; a null first dimension is the symbolic "batch".</summary>
    public static ValueInfoProto Value(string name, long?[] shape)
    {
        var tensorShape = new TensorShapeProto();
        foreach (long? d in shape)
            tensorShape.Dim.Add(d is long size ? new TensorShapeProto.Types.Dimension { DimValue = size } : new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = tensorShape } } };
    }

    /// <summary>The model file of a graph: IR version 8, opset 13 unless told (LayerNormalization needs 17, Gelu 20).</summary>
    public static byte[] Model(GraphProto graph, string producer, int opset = 13)
    {
        var model = new ModelProto { IrVersion = opset >= 20 ? 9 : 8, ProducerName = producer, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model.ToByteArray();
    }
}

/// <summary>
/// Writes a graph node by node with explicit inputs, for models that are not a chain (a transformer's residual
/// connections and attention heads): each call adds one node and returns the name of its output.
/// </summary>
internal sealed class OnnxGraphWriter
{
    private int _counter;

    public OnnxGraphWriter(string name) => Graph = new GraphProto { Name = name };

    public GraphProto Graph { get; }

    public string Input(string name, long?[] shape)
    {
        Graph.Input.Add(OnnxProto.Value(name, shape));
        return name;
    }

    public string Constant(string name, long[] dims, float[] values) => OnnxProto.Tensor(Graph, name, dims, values);

    public string Scalar(string name, float value) => OnnxProto.Tensor(Graph, name, Array.Empty<long>(), new[] { value });

    public string Int64s(string name, long[] values) => OnnxProto.Int64Tensor(Graph, name, values);

    /// <summary>Adds a node named <paramref name="name"/> (or numbered after its operator) and returns its output's name.</summary>
    public string Node(string op, string? name, string[] inputs, params AttributeProto[] attributes)
    {
        string id = name ?? op.ToLowerInvariant() + "_" + _counter;
        _counter++;
        var node = new NodeProto { OpType = op, Name = id };
        node.Input.Add(inputs);
        node.Output.Add(id + "_out");
        node.Attribute.Add(attributes);
        Graph.Node.Add(node);
        return id + "_out";
    }

    public string Node(string op, string[] inputs, params AttributeProto[] attributes) => Node(op, null, inputs, attributes);

    public byte[] Build(string output, long?[] outputShape, string producer, int opset)
    {
        Graph.Output.Add(OnnxProto.Value(output, outputShape));
        return OnnxProto.Model(Graph, producer, opset);
    }
}
