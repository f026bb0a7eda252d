using System.Reflection;
using Qtaml.Data;
using Qtaml.Generators.Tests.Generator;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Transformer;

/// <summary>
/// The sample transformer encoder (sample-app/Models/digits-transformer.onnx: token and position embeddings,
/// LayerNormalization, four-head attention, an erf GELU feed-forward, residual Adds, mean pooling) compiled by
/// the generator and run against ONNX Runtime on real test digits.
/// </summary>
public class SampleTransformerTests
{
    private const int Digits = 100;

    internal static byte[] Model => File.ReadAllBytes(Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(MnistData.DefaultPath()))!, "sample-app", "Models", "digits-transformer.onnx"));

    private static readonly long[] InputShape = { 1, 28, 28 };

    /// <summary>The generated model behind a run function, as the ONNX Runtime comparison tests compile it.</summary>
    internal static (Func<float[], float[]> Run, Assembly Assembly) Compile(byte[] model, string arguments) => OnnxRuntimeComparisonTests.Compile(model, arguments);

    private static MnistData Test => MnistData.Load(MnistData.DefaultPath()).Test;

    [Fact]
    public void Unquantized_encoder_matches_OnnxRuntime_within_1e_5_on_test_digits()
    {
        using var reference = new OnnxRuntimeReference(Model, InputShape);
        (Func<float[], float[]> run, _) = Compile(Model, ", Quantize = false");
        MnistData test = Test;
        double largest = 0;
        for (int n = 0; n < Digits; n++)
        {
            float[] expected = reference.Run(test.Images[n]), actual = run(test.Images[n]);
            Assert.Equal(10, actual.Length);
            for (int i = 0; i < 10; i++) largest = Math.Max(largest, Math.Abs(expected[i] - actual[i]));
        }
        // Outputs are probabilities; the only differences are float summation order and erf's 1.5e-7 error.
        Assert.True(largest <= 1e-5, $"largest difference from ONNX Runtime: {largest:G3}");
    }

    [Theory]
    [InlineData(8)]
    [InlineData(4)]
    public void Quantized_encoder_matches_OnnxRuntime_on_the_same_quantized_weights_within_1e_5(int bits)
    {
        // With no flips the generated code computes the network whose weights are rounded to their channel's
        // step; ONNX Runtime runs that very network from a rewritten file (DequantizedOnnx). Any difference
        // beyond float rounding would be a wrong scale, channel, index or operator.
        using var reference = new OnnxRuntimeReference(DequantizedOnnx.Rewrite(Model, bits), InputShape);
        (Func<float[], float[]> run, _) = Compile(Model, $", Bits = {bits}, FlipProbability = 0.0, EccBudget = 0.0");
        MnistData test = Test;
        double largest = 0;
        for (int n = 0; n < Digits; n++)
        {
            float[] expected = reference.Run(test.Images[n]), actual = run(test.Images[n]);
            for (int i = 0; i < 10; i++) largest = Math.Max(largest, Math.Abs(expected[i] - actual[i]));
        }
        Assert.True(largest <= 1e-5, $"{bits} bits: largest difference from ONNX Runtime on the quantized weights: {largest:G3}");
    }

    [Fact]
    public void Eight_bit_encoder_keeps_the_float_models_predictions()
    {
        // 8-bit per-channel rounding moves each weight by at most half a step (0.4% of its channel's largest);
        // on 500 test digits the predicted class may change only where the float model's top two are nearly tied.
        using var reference = new OnnxRuntimeReference(Model, InputShape);
        (Func<float[], float[]> run, _) = Compile(Model, ", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0");
        MnistData test = Test;
        int changed = 0;
        for (int n = 0; n < 500; n++)
        {
            float[] expected = reference.Run(test.Images[n]), actual = run(test.Images[n]);
            if (Array.IndexOf(expected, expected.Max()) != Array.IndexOf(actual, actual.Max())) changed++;
        }
        Assert.True(changed <= 2, $"{changed} of 500 predictions changed");
    }
}
