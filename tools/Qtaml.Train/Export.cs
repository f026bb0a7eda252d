using System.Text;
using Google.Protobuf;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Train;

/// <summary>Writes a trained network as ONNX (opset 13) and as a safetensors checkpoint with the layer sequence in __metadata__.</summary>
internal static class Export
{
    public static byte[] Onnx(Layer[] layers, int[] inputShape, string name)
    {
        var graph = new GraphProto { Name = name };
        graph.Input.Add(Value("input", inputShape));
        string current = "input";
        int index = 0;
        foreach (Layer? layer in layers.Append(null))
        {
            string output = layer is null ? "probabilities" : NameOf(layer, index) + "_out";
            var node = new NodeProto { Name = layer is null ? "softmax" : NameOf(layer, index), OpType = layer?.Kind switch
            {
                "Dense" => "Gemm",
                null => "Softmax",
                string kind => kind,
            } };
            node.Input.Add(current);
            switch (layer)
            {
                case Conv c:
                    node.Input.Add(Tensor(graph, node.Name + ".weight", new long[] { c.OutChannels, c.InChannels, c.Kernel, c.Kernel }, c.Weights));
                    node.Input.Add(Tensor(graph, node.Name + ".bias", new long[] { c.OutChannels }, c.Bias));
                    node.Attribute.Add(Ints("kernel_shape", c.Kernel, c.Kernel));
                    node.Attribute.Add(Ints("pads", c.Pad, c.Pad, c.Pad, c.Pad));
                    node.Attribute.Add(Ints("strides", 1, 1));
                    break;
                case Dense d:
                    node.Input.Add(Tensor(graph, node.Name + ".weight", new long[] { d.Outputs, d.Inputs }, d.Weights));
                    node.Input.Add(Tensor(graph, node.Name + ".bias", new long[] { d.Outputs }, d.Bias));
                    node.Attribute.Add(new AttributeProto { Name = "transB", I = 1, Type = AttributeProto.Types.AttributeType.Int });
                    break;
                case MaxPool2:
                    node.Attribute.Add(Ints("kernel_shape", 2, 2));
                    node.Attribute.Add(Ints("strides", 2, 2));
                    break;
                case Flatten:
                    node.Attribute.Add(new AttributeProto { Name = "axis", I = 1, Type = AttributeProto.Types.AttributeType.Int });
                    break;
                case null:
                    node.Attribute.Add(new AttributeProto { Name = "axis", I = 1, Type = AttributeProto.Types.AttributeType.Int });
                    break;
            }
            node.Output.Add(output);
            graph.Node.Add(node);
            current = output;
            index++;
        }
        graph.Output.Add(Value(current, new[] { layers[^1].OutputLength }));
        var model = new ModelProto { IrVersion = 8, ProducerName = "Qtaml.Train", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();
    }

    public static byte[] Safetensors(Layer[] layers, int[] inputShape)
    {
        var declarations = new List<string>();
        var tensors = new List<(string Name, long[] Shape, float[] Values)>();
        int index = 0;
        foreach (Layer layer in layers)
        {
            string name = NameOf(layer, index++);
            switch (layer)
            {
                case Conv c:
                    declarations.Add($"Conv {name} pad={c.Pad}");
                    tensors.Add((name + ".weight", new long[] { c.OutChannels, c.InChannels, c.Kernel, c.Kernel }, c.Weights));
                    tensors.Add((name + ".bias", new long[] { c.OutChannels }, c.Bias));
                    break;
                case Dense d:
                    declarations.Add("Linear " + name);
                    tensors.Add((name + ".weight", new long[] { d.Outputs, d.Inputs }, d.Weights));
                    tensors.Add((name + ".bias", new long[] { d.Outputs }, d.Bias));
                    break;
                case MaxPool2: declarations.Add("MaxPool k=2 stride=2"); break;
                default: declarations.Add(layer.Kind); break;
            }
        }
        declarations.Add("Softmax");

        var header = new StringBuilder();
        header.Append("{\"__metadata__\":{\"format\":\"pt\",\"qtaml.input\":\"").Append(string.Join(",", inputShape))
              .Append("\",\"qtaml.layers\":\"").Append(string.Join("; ", declarations)).Append("\"}");
        var data = new MemoryStream();
        foreach ((string name, long[] shape, float[] values) in tensors)
        {
            long begin = data.Length;
            foreach (float v in values) data.Write(BitConverter.GetBytes(v));
            header.Append($",\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{begin},{data.Length}]}}");
        }
        header.Append('}');
        // The format pads the header with spaces to a multiple of 8 bytes.
        while ((header.Length + 8) % 8 != 0) header.Append(' ');
        byte[] headerBytes = Encoding.UTF8.GetBytes(header.ToString());
        var file = new MemoryStream();
        file.Write(BitConverter.GetBytes((ulong)headerBytes.Length));
        file.Write(headerBytes);
        data.Position = 0;
        data.CopyTo(file);
        return file.ToArray();
    }

    private static string NameOf(Layer layer, int index) => layer.Kind.ToLowerInvariant() + index;

    private static string Tensor(GraphProto graph, string name, long[] dims, float[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = 1 };
        tensor.Dims.Add(dims);
        var raw = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        tensor.RawData = ByteString.CopyFrom(raw);
        graph.Initializer.Add(tensor);
        return name;
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.Add(values);
        return attribute;
    }

    private static ValueInfoProto Value(string name, int[] shape)
    {
        var tensorShape = new TensorShapeProto();
        tensorShape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (int d in shape) tensorShape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = tensorShape } } };
    }
}
