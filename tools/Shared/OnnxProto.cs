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
    public static string Int64Tensor(GraphProto graph, string name, long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = 7 };
        tensor.Dims.Add(values.Length);
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

    /// <summary>The model file of a graph: IR version 8, opset 13.</summary>
    public static byte[] Model(GraphProto graph, string producer)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = producer, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();
    }
}
