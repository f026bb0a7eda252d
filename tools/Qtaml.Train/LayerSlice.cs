using Google.Protobuf;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Tools;

namespace Qtaml.Train;

/// <summary>
/// Cuts one convolution (and the ReLU after it) out of a trained ONNX chain into a model of its own, so a
/// benchmark can time that layer alone with the trained weights: the generator compiles it like any model.
/// </summary>
internal static class LayerSlice
{
    /// <summary>
    /// Writes a model whose input is the <paramref name="inputShape"/> (channels, height, width) activation
    /// that feeds the Conv node named <paramref name="node"/>, and whose output is that Conv's ReLU output.
    /// </summary>
    public static byte[] ConvWithRelu(byte[] onnx, string node, long[] inputShape)
    {
        ModelProto source = ModelProto.Parser.ParseFrom(onnx);
        GraphProto graph = source.Graph;
        NodeProto conv = graph.Node.FirstOrDefault(n => n.Name == node && n.OpType == "Conv")
            ?? throw new InvalidOperationException($"The model has no Conv node named '{node}'.");
        TensorProto weight = graph.Initializer.Single(t => t.Name == conv.Input[1]);
        TensorProto bias = graph.Initializer.Single(t => t.Name == conv.Input[2]);
        if (weight.Dims[1] != inputShape[0])
            throw new InvalidOperationException($"'{node}' takes {weight.Dims[1]} channels, not {inputShape[0]}.");

        var slice = new GraphProto { Name = node + "-slice" };
        slice.Input.Add(OnnxProto.Value("x", new long?[] { null, inputShape[0], inputShape[1], inputShape[2] }));
        slice.Initializer.Add(weight.Clone());
        slice.Initializer.Add(bias.Clone());
        var copy = new NodeProto { Name = conv.Name, OpType = "Conv" };
        copy.Input.Add(new[] { "x", weight.Name, bias.Name });
        copy.Output.Add("conv");
        copy.Attribute.Add(conv.Attribute.Select(a => a.Clone()));
        var relu = new NodeProto { Name = node + "_relu", OpType = "Relu" };
        relu.Input.Add("conv");
        relu.Output.Add("y");
        slice.Node.Add(copy);
        slice.Node.Add(relu);

        // The exporter writes square kernels with equal pads and strides (Export.cs).
        long kernel = weight.Dims[2], pad = conv.Attribute.FirstOrDefault(a => a.Name == "pads")?.Ints[0] ?? 0;
        long stride = conv.Attribute.FirstOrDefault(a => a.Name == "strides")?.Ints[0] ?? 1;
        long outH = (inputShape[1] + 2 * pad - kernel) / stride + 1, outW = (inputShape[2] + 2 * pad - kernel) / stride + 1;
        slice.Output.Add(OnnxProto.Value("y", new long?[] { null, weight.Dims[0], outH, outW }));
        return OnnxProto.Model(slice, "Qtaml.Train --slice");
    }
}
