using Google.Protobuf;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Tests.Support;

/// <summary>
/// An ONNX file with every weight matrix replaced by what b-bit symmetric per-channel quantization makes of it
/// (s_c = max|w_c| / (2^(b−1) − 1), w → s_c·round(w / s_c)), written independently of the generator's planner.
/// ONNX Runtime on this file computes exactly the network the quantized generated code computes with no flips,
/// up to float rounding order. The weights are the second input of a MatMul or Gemm (channels = output columns,
/// or rows with transB), the kernel of a Conv (channels = output channels) and the table of a Gather (channels = rows).
/// </summary>
internal static class DequantizedOnnx
{
    /// <summary>A channel's step: its largest magnitude over the largest code, 2^(b−1) − 1 (1 for an all-zero channel).</summary>
    public static float ChannelScale(float largestMagnitude, int bits) => largestMagnitude > 0 ? largestMagnitude / MaxCode(bits) : 1f;

    /// <summary>A weight's code: w / s rounded half away from zero, clamped to ±(2^(b−1) − 1).</summary>
    public static int Code(float weight, float scale, int bits) =>
        (int)Math.Clamp(Math.Round(weight / scale, MidpointRounding.AwayFromZero), -MaxCode(bits), MaxCode(bits));

    private static int MaxCode(int bits) => (1 << (bits - 1)) - 1;

    public static byte[] Rewrite(byte[] onnx, int bits)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(onnx);
        Rewrite(model.Graph, new Dictionary<string, TensorProto>(), bits);
        return model.ToByteArray();
    }

    /// <summary>The weights of a graph's nodes and, with the scope around them, of its subgraphs (an If's branches).</summary>
    private static void Rewrite(GraphProto graph, Dictionary<string, TensorProto> outer, int bits)
    {
        var byName = new Dictionary<string, TensorProto>(outer);
        foreach (TensorProto initializer in graph.Initializer) byName[initializer.Name] = initializer;
        foreach (NodeProto node in graph.Node)
            foreach (AttributeProto attribute in node.Attribute.Where(a => a.G is not null))
                Rewrite(attribute.G, byName, bits);
        foreach (NodeProto node in graph.Node)
        {
            (string? weight, bool channelsAreRows) = node.OpType switch
            {
                "MatMul" when byName.ContainsKey(node.Input[1]) => (node.Input[1], false),
                "Gemm" => (node.Input[1], node.Attribute.Any(a => a.Name == "transB" && a.I == 1)),
                "Conv" => (node.Input[1], true),
                "Gather" when byName.ContainsKey(node.Input[0]) => (node.Input[0], true),
                "ConvTranspose" => (node.Input[1], false),
                "LSTM" or "GRU" => (node.Input[1], true),
                _ => ((string?)null, false),
            };
            if (weight is null) continue;
            Quantize(node, weight, channelsAreRows, byName, bits);
            // A recurrent cell's R is a second weight: rows of [directions · gates · hidden][hidden].
            if (node.OpType is "LSTM" or "GRU") Quantize(node, node.Input[2], true, byName, bits);
        }
    }

    /// <summary>Kernel = strides on every axis, no dilation, padding or output padding (OnnxReader.TilesItsOutput; an output_shape is taken as padding).</summary>
    private static bool TilesItsOutput(NodeProto node, TensorProto weight)
    {
        long[] kernel = weight.Dims.Skip(2).ToArray();
        long[] Ints(string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.Ints.ToArray() ?? Array.Empty<long>();
        long[] strides = Ints("strides");
        return (strides.Length == 0 ? kernel.All(k => k == 1) : strides.SequenceEqual(kernel))
            && Ints("dilations").All(d => d == 1) && Ints("pads").All(p => p == 0) && Ints("output_padding").All(p => p == 0)
            && !node.Attribute.Any(a => a.Name == "output_shape");   // SAME_UPPER/LOWER pad by kernel − stride: none
    }

    private static void Quantize(NodeProto node, string weight, bool channelsAreRows, Dictionary<string, TensorProto> byName, int bits)
    {
        if (!byName.TryGetValue(weight, out TensorProto? tensor)) return;
        bool recurrent = node.OpType is "LSTM" or "GRU";
        int rows = recurrent ? (int)(tensor.Dims[0] * tensor.Dims[1]) : (int)tensor.Dims[0];
        int columns = (int)tensor.Dims.Skip(recurrent ? 2 : 1).Aggregate(1L, (a, d) => a * d);   // a Conv kernel: [out][in·kh·kw]
        float[] w = new float[rows * columns];
        if (tensor.RawData.Length > 0) Buffer.BlockCopy(tensor.RawData.ToByteArray(), 0, w, 0, w.Length * 4);
        else tensor.FloatData.CopyTo(w, 0);
        tensor.FloatData.Clear();
        // A ConvTranspose kernel is [in][out / groups][taps]: output channel o of group g reads column o − g·(out / groups) of its group's rows.
        int groups = (int)(node.Attribute.FirstOrDefault(a => a.Name == "group")?.I ?? 1);
        int transposedOut = node.OpType == "ConvTranspose" ? (int)tensor.Dims[1] : 0, taps = node.OpType == "ConvTranspose" ? columns / transposedOut : 0;
        // A ConvTranspose whose windows tile its output is a 1x1 convolution with a channel per (output channel, tap),
        // each its own scale; any other, a convolution with the taps of an output channel in one channel.
        int tapChannels = node.OpType == "ConvTranspose" && TilesItsOutput(node, tensor) ? taps : 1;
        int channels = node.OpType == "ConvTranspose" ? transposedOut * groups * tapChannels : channelsAreRows ? rows : columns;
        for (int c = 0; c < channels; c++)
        {
            int o = c / tapChannels;
            IEnumerable<int> indices = node.OpType == "ConvTranspose"
                ? Enumerable.Range(o / transposedOut * (rows / groups), rows / groups).SelectMany(i => Enumerable.Range(0, taps).Where(t => tapChannels == 1 || t == c % tapChannels).Select(t => (i * transposedOut + o % transposedOut) * taps + t))
                : channelsAreRows
                ? Enumerable.Range(c * columns, columns)
                : Enumerable.Range(0, rows).Select(r => r * columns + c);
            int[] members = indices.ToArray();
            float scale = ChannelScale(members.Max(i => Math.Abs(w[i])), bits);
            foreach (int i in members) w[i] = scale * Code(w[i], scale, bits);
        }
        var raw = new byte[w.Length * 4];
        Buffer.BlockCopy(w, 0, raw, 0, raw.Length);
        tensor.RawData = ByteString.CopyFrom(raw);
    }
}
