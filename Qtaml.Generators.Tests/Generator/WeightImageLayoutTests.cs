using Qtaml.Faults;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// Where each weight's code sits in a model's weight image, as the README documents it: the order each kernel
/// reads, that is the file's order for a dense layer, tap-major for a convolution, input-major for a projection
/// applied to every token. Someone reading or editing codes by position relies on it. With no flips to
/// compensate (FlipProbability = 0) a stored code is round(w / s) with s = max|w| / 127 over the output channel.
/// </summary>
public class WeightImageLayoutTests
{
    private static WeightImage ImageOf(byte[] model)
    {
        (_, System.Reflection.Assembly assembly) = OnnxRuntimeComparisonTests.Compile(model, ", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0");
        return (WeightImage)assembly.GetType("Models.Harness")!.GetMethod("CreateWeightImage")!.Invoke(null, null)!;
    }

    /// <summary>Symmetric 8-bit per-channel codes of a [channels][length] weight tensor, by the tests' own quantizer (DequantizedOnnx), not the planner.</summary>
    private static int[,] Codes(float[] weights, int channels)
    {
        int length = weights.Length / channels;
        var codes = new int[channels, length];
        for (int c = 0; c < channels; c++)
        {
            float scale = DequantizedOnnx.ChannelScale(Enumerable.Range(0, length).Max(i => Math.Abs(weights[c * length + i])), 8);
            for (int i = 0; i < length; i++) codes[c, i] = DequantizedOnnx.Code(weights[c * length + i], scale, 8);
        }
        return codes;
    }

    [Fact]
    public void Convolution_codes_are_tap_major_and_dense_codes_keep_the_file_order()
    {
        OnnxModelBuilder builder = TestModels.Cnn();
        WeightImage image = ImageOf(builder.Build(new long[] { 1, 10 }));
        for (int layer = 0; layer < builder.WeightLayers.Count; layer++)
        {
            (string op, float[] weights, long[] dims, _) = builder.WeightLayers[layer];
            int channels = (int)dims[0], length = weights.Length / channels;
            int[,] codes = Codes(weights, channels);
            for (int c = 0; c < channels; c++)
                for (int i = 0; i < length; i++)
                {
                    int at = op == "Conv" ? i * channels + c : c * length + i;
                    Assert.True(codes[c, i] == image.GetCode(layer, at), $"{op} layer {layer}, channel {c}, weight {i}: expected code {codes[c, i]} at {at}, found {image.GetCode(layer, at)}");
                }
        }
    }

    [Fact]
    public void A_projection_applied_to_every_token_stores_its_codes_input_major()
    {
        // MatMul [tokens, 8] x [8, 5]: the file holds the weight as [input][output], which is also the stored order.
        var g = new Qtaml.Tools.OnnxGraphWriter("projection");
        string x = g.Input("input", new long?[] { 1, 3, 8 });
        var random = new Random(2);
        float[] w = Enumerable.Range(0, 8 * 5).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        string y = g.Node("MatMul", new[] { x, g.Constant("w", new long[] { 8, 5 }, w) });
        WeightImage image = ImageOf(g.Build(y, new long?[] { 1, 3, 5 }, "tests", 13));

        // Channels are outputs: transpose to [output][input] to quantize, then expect code (o, i) at i * 5 + o.
        var byOutput = new float[w.Length];
        for (int i = 0; i < 8; i++) for (int o = 0; o < 5; o++) byOutput[o * 8 + i] = w[i * 5 + o];
        int[,] codes = Codes(byOutput, 5);
        for (int o = 0; o < 5; o++)
            for (int i = 0; i < 8; i++)
                Assert.Equal(codes[o, i], image.GetCode(0, i * 5 + o));
    }
}
