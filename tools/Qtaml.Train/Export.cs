using Qtaml.Generators.Onnx.Schema;
using Qtaml.Tools;

namespace Qtaml.Train;

/// <summary>Writes a trained network as ONNX (opset 13) and as a safetensors checkpoint with the layer sequence in __metadata__.</summary>
internal static class Export
{
    /// <param name="statistics">For a network with <see cref="ChannelAffine"/> layers: the mean and variance of layer l's input, per channel.</param>
    public static byte[] Onnx(Layer[] layers, int[] inputShape, string name, Func<int, (float[] Mean, float[] Variance)>? statistics = null)
    {
        var graph = new GraphProto { Name = name };
        graph.Input.Add(OnnxProto.Value("input", Batch(inputShape)));
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
                    node.Input.Add(OnnxProto.Tensor(graph, node.Name + ".weight", new long[] { c.OutChannels, c.GroupIn, c.Kernel, c.Kernel }, c.Weights));
                    node.Input.Add(OnnxProto.Tensor(graph, node.Name + ".bias", new long[] { c.OutChannels }, c.Bias));
                    node.Attribute.Add(OnnxProto.Ints("kernel_shape", c.Kernel, c.Kernel));
                    node.Attribute.Add(OnnxProto.Ints("pads", c.Pad, c.Pad, c.Pad, c.Pad));
                    node.Attribute.Add(OnnxProto.Ints("strides", c.Stride, c.Stride));
                    if (c.Groups > 1) node.Attribute.Add(OnnxProto.Int("group", c.Groups));
                    break;
                case Dense d:
                    node.Input.Add(OnnxProto.Tensor(graph, node.Name + ".weight", new long[] { d.Outputs, d.Inputs }, d.Weights));
                    node.Input.Add(OnnxProto.Tensor(graph, node.Name + ".bias", new long[] { d.Outputs }, d.Bias));
                    node.Attribute.Add(OnnxProto.Int("transB", 1));
                    break;
                case MaxPool2:
                    node.Attribute.Add(OnnxProto.Ints("kernel_shape", 2, 2));
                    node.Attribute.Add(OnnxProto.Ints("strides", 2, 2));
                    break;
                case Flatten:
                    node.Attribute.Add(OnnxProto.Int("axis", 1));
                    break;
                case ChannelAffine affine:
                {
                    // y = a·x + b as BatchNormalization over the input's real statistics: scale = a·sqrt(var + eps),
                    // B = b + a·mean, so (x − mean)/sqrt(var + eps)·scale + B = a·x + b exactly.
                    const float epsilon = 1e-5f;
                    (float[] mean, float[] variance) = (statistics ?? throw new ArgumentException("BatchNormalization needs its input statistics.", nameof(statistics)))(index);
                    float[] scale = affine.Weights.Select((a, c) => a * MathF.Sqrt(variance[c] + epsilon)).ToArray();
                    float[] shift = affine.Bias.Select((b, c) => b + affine.Weights[c] * mean[c]).ToArray();
                    long[] channels = { affine.Channels };
                    node.Input.Add(OnnxProto.Tensor(graph, node.Name + ".scale", channels, scale));
                    node.Input.Add(OnnxProto.Tensor(graph, node.Name + ".bias", channels, shift));
                    node.Input.Add(OnnxProto.Tensor(graph, node.Name + ".running_mean", channels, mean));
                    node.Input.Add(OnnxProto.Tensor(graph, node.Name + ".running_var", channels, variance));
                    node.Attribute.Add(OnnxProto.Float("epsilon", epsilon));
                    break;
                }
                case AddSkip add:
                    node.Input.Add(add.From < 0 ? "input" : NameOf(layers[add.From], add.From) + "_out");
                    break;
                case null:
                    node.Attribute.Add(OnnxProto.Int("axis", 1));
                    break;
            }
            node.Output.Add(output);
            graph.Node.Add(node);
            current = output;
            index++;
        }
        graph.Output.Add(OnnxProto.Value(current, Batch(new[] { layers[^1].OutputLength })));
        return OnnxProto.Model(graph, "Qtaml.Train");
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
                case Conv { Groups: > 1 }:
                    throw new NotSupportedException("the safetensors layer declarations have no grouped convolution; export ONNX only");
                case Conv c:
                    declarations.Add(c.Stride == 1 ? $"Conv {name} pad={c.Pad}" : $"Conv {name} stride={c.Stride} pad={c.Pad}");
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

        return SafetensorsFile.Write(tensors, new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["qtaml.input"] = string.Join(",", inputShape),
            ["qtaml.layers"] = string.Join("; ", declarations),
        });
    }

    private static string NameOf(Layer layer, int index) => layer.Kind.ToLowerInvariant() + index;

    /// <summary>A shape with a symbolic batch dimension in front.</summary>
    private static long?[] Batch(int[] shape) => new long?[] { null }.Concat(shape.Select(d => (long?)d)).ToArray();
}
