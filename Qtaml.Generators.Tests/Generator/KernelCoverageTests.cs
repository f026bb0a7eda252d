using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// Every convolution kernel and layout the lowering can choose, against ONNX Runtime: wide convolutions (more
/// channels than one register block holds), depthwise and grouped ones (table and direct kernels), dilated and
/// 1-D ones, and a residual add that keeps channels-last with a ReLU fused into it. Float builds within 1e-4;
/// quantized builds against ONNX Runtime running the same dequantized weights, so they must agree to float rounding.
/// </summary>
public class KernelCoverageTests
{
    private const int Inputs = 20;

    public static TheoryData<string> Shapes => new() { "wide-conv", "depthwise-separable", "residual", "grouped-dilated", "conv-1d", "panels", "seven-by-seven", "padded-panels" };

    internal static OnnxModelBuilder Build(string name)
    {
        switch (name)
        {
            case "wide-conv":
                return new OnnxModelBuilder(new long[] { 1, 16, 10, 10 }, seed: 11)
                    .ConvNd(16, 96, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.2).Relu()
                    .ConvNd(96, 72, new[] { 3, 3 }, new[] { 2, 2 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.08).Relu()
                    .ConvNd(72, 100, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, scale: 0.2)
                    .Flatten().Gemm(2500, 10, 0.05);
            case "depthwise-separable":
                return new OnnxModelBuilder(new long[] { 1, 8, 12, 12 }, seed: 12)
                    .ConvNd(8, 24, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }).Relu()
                    .ConvNd(24, 24, new[] { 3, 3 }, new[] { 2, 2 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, group: 24).Relu()
                    .ConvNd(24, 32, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, scale: 0.3).Relu()
                    .Flatten().Gemm(32 * 36, 10, 0.05);
            case "residual":
            {
                var builder = new OnnxModelBuilder(new long[] { 1, 8, 10, 10 }, seed: 13)
                    .ConvNd(8, 16, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.3).Relu();
                string skip = builder.Current;
                return builder.ConvNd(16, 16, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.15)
                    .AddValue(skip).Relu()
                    .PoolNd("MaxPool", new[] { 2, 2 }, new[] { 2, 2 })
                    .Flatten().Gemm(16 * 25, 10, 0.1);
            }
            case "grouped-dilated":
                return new OnnxModelBuilder(new long[] { 1, 12, 11, 11 }, seed: 14)
                    .ConvNd(12, 16, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 2, 2, 2, 2 }, new[] { 2, 2 }, group: 2, scale: 0.3).Relu()
                    .ConvNd(16, 12, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 0, 1, 0 }, new[] { 1, 1 }, group: 4, scale: 0.3)
                    .Flatten().Gemm(12 * 11 * 9, 10, 0.05);
            case "panels":
                // Tables of 16-channel panels (WeightOrder.TablePanel): per group for a grouped 3x3 (groups of 32) and a
                // grouped pointwise layer (groups of 48), 80 channels of a 3x3 that Vector512 covers in a looped
                // pass of three vectors and a tail pass of two, and an ungrouped pointwise layer of 48. The ungrouped
                // layers of a quantized build convert their codes a pass's panels at a time (ConvKernels.WritePassDecode).
                return new OnnxModelBuilder(new long[] { 1, 16, 9, 9 }, seed: 16)
                    .ConvNd(16, 64, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, group: 2, scale: 0.3).Relu()
                    .ConvNd(64, 96, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, group: 2, scale: 0.2).Relu()
                    .ConvNd(96, 80, new[] { 3, 3 }, new[] { 2, 2 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.08).Relu()
                    .ConvNd(80, 48, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, scale: 0.15)
                    .Flatten().Gemm(48 * 25, 10, 0.05);
            case "seven-by-seven":
                // ResNet-50's last stage in small: a 7x7 map, which Vector512's table kernels take in blocks of 5
                // positions (ConvKernels.LeastOverlap: 50 computed, where blocks of 6 would compute 54), the last block
                // overlapping the one before; a 3x3 of four vectors a pass and a pointwise layer of two passes.
                return new OnnxModelBuilder(new long[] { 1, 32, 7, 7 }, seed: 17)
                    .ConvNd(32, 64, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.15).Relu()
                    .ConvNd(64, 128, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, scale: 0.15)
                    .Flatten().Gemm(128 * 49, 10, 0.02);
            case "padded-panels":
                // Channels that are whole vectors of 8 but not whole panels of 16, from 256 (WeightOrder.PadsToPanels: a
                // classifier's 1000-channel head): outputs padded to whole panels, tables in panels whose last holds 8
                // channels (8-bit: stored [tap][8], converted into rows of 16 by the pass that reads it); a 3x3 of 264
                // channels and a pointwise layer of 280.
                return new OnnxModelBuilder(new long[] { 1, 16, 5, 5 }, seed: 18)
                    .ConvNd(16, 264, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.2).Relu()
                    .ConvNd(264, 280, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, scale: 0.1)
                    .Flatten().Gemm(280 * 25, 10, 0.02);
            default:
                return new OnnxModelBuilder(new long[] { 1, 4, 50 }, seed: 15)
                    .ConvNd(4, 12, new[] { 5 }, new[] { 1 }, new[] { 2, 2 }, new[] { 1 }, scale: 0.4).Relu()
                    .PoolNd("MaxPool", new[] { 2 }, new[] { 2 })
                    .ConvNd(12, 16, new[] { 3 }, new[] { 1 }, new[] { 0, 0 }, new[] { 2 }, scale: 0.3).Relu()
                    .Flatten().Gemm(16 * 21, 10, 0.1);
        }
    }

    private static float[] SignedInput(long[] shape, int seed) =>
        TestModels.Input((int)shape.Skip(1).Aggregate(1L, (a, b) => a * b), seed).Select(v => 2 * v - 1).ToArray();

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Unquantized_build_matches_OnnxRuntime_within_1e_4(string name)
    {
        OnnxModelBuilder builder = Build(name);
        byte[] model = builder.Build(new long[] { 1, 10 });
        using var reference = new OnnxRuntimeReference(model, builder.InputShape);
        (Func<float[], float[]> run, _) = OnnxRuntimeComparisonTests.Compile(model, ", Quantize = false");
        for (int seed = 0; seed < Inputs; seed++)
        {
            float[] input = SignedInput(builder.InputShape, seed);
            float[] expected = reference.Run(input), actual = run(input);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"{name}, input {seed}, output {i}: ONNX Runtime {expected[i]}, generated {actual[i]}");
        }
    }

    [Theory]
    [InlineData("wide-conv", 8)]
    [InlineData("depthwise-separable", 8)]
    [InlineData("residual", 8)]
    [InlineData("grouped-dilated", 8)]
    [InlineData("conv-1d", 8)]
    [InlineData("panels", 8)]
    [InlineData("seven-by-seven", 8)]
    [InlineData("padded-panels", 8)]
    [InlineData("padded-panels", 6, "SignMagnitude")]
    [InlineData("depthwise-separable", 4)]
    [InlineData("grouped-dilated", 12)]
    [InlineData("wide-conv", 8, "SignMagnitude")]
    [InlineData("depthwise-separable", 8, "SignMagnitude")]
    [InlineData("residual", 8, "SignMagnitude")]
    [InlineData("grouped-dilated", 8, "SignMagnitude")]
    [InlineData("conv-1d", 8, "SignMagnitude")]
    [InlineData("panels", 6, "SignMagnitude")]
    [InlineData("depthwise-separable", 4, "SignMagnitude")]
    [InlineData("grouped-dilated", 10, "SignMagnitude")]
    public void Quantized_build_matches_OnnxRuntime_on_the_same_dequantized_weights(string name, int bits, string encoding = "TwosComplement")
    {
        OnnxModelBuilder builder = Build(name);
        byte[] model = builder.Build(new long[] { 1, 10 });
        using var reference = new OnnxRuntimeReference(DequantizedOnnx.Rewrite(model, bits), builder.InputShape);
        // Codes are decoded by the kernels' sign extension and, for sign-magnitude, one compare and select: both
        // encodings must give the same weights.
        (Func<float[], float[]> run, var assembly) = OnnxRuntimeComparisonTests.Compile(model, $", Bits = {bits}, FlipProbability = 0.0, EccBudget = 0.0, Encoding = global::Qtaml.WeightEncoding.{encoding}");
        var info = (ModelInfo)assembly.GetType("Models.Harness")!.GetProperty("Info")!.GetValue(null)!;
        Assert.Equal(encoding, info.Encoding.ToString());
        for (int seed = 0; seed < Inputs; seed++)
        {
            float[] input = SignedInput(builder.InputShape, seed);
            float[] expected = reference.Run(input), actual = run(input);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"{name}, {bits} bits {encoding}, input {seed}, output {i}: ONNX Runtime {expected[i]}, generated {actual[i]}");
        }
    }

    [Fact]
    public void A_padding_that_would_stage_billions_of_values_is_a_diagnostic_not_code()
    {
        // Strides as large as the padding keep the output at 3 x 3, but a kernel would copy its input into a
        // 120,004 x 120,004 zero border: more than an array can hold.
        byte[] model = new OnnxModelBuilder(new long[] { 1, 1, 4, 4 }, 1)
            .ConvNd(1, 8, new[] { 3, 3 }, new[] { 60000, 60000 }, new[] { 60000, 60000, 60000, 60000 }, new[] { 1, 1 })
            .Flatten().Gemm(72, 10).Build(new long[] { 1, 10 });
        var result = GeneratorHarness.Run(TestModels.Consumer("Models/model.onnx", ""), new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        var error = Assert.Single(result.GeneratorDiagnostics, d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        Assert.Contains("padded input", error.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }
}
