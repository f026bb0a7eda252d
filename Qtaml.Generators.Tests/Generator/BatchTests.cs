using System.Globalization;
using Microsoft.CodeAnalysis;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// A file exported with a fixed batch of several samples compiles to a Run over all of them, which agrees with
/// ONNX Runtime on the whole batch: the batch is just the first dimension, so operators that mix samples (a
/// reshape across them, a constant that differs per sample) are computed as the graph says.
/// </summary>
public class BatchTests
{
    private static OnnxModelBuilder Cnn(long batch) => new OnnxModelBuilder(new long[] { batch, 3, 8, 8 }, seed: 21)
        .ConvNd(3, 8, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }).Relu()
        .PoolNd("MaxPool", new[] { 2, 2 }, new[] { 2, 2 })
        .Flatten().Gemm(8 * 16, 5).Softmax();

    [Theory]
    [InlineData(", Quantize = false")]
    [InlineData(", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0")]
    public void A_fixed_batch_of_three_runs_each_sample_and_matches_OnnxRuntime(string arguments)
    {
        OnnxModelBuilder builder = Cnn(3);
        byte[] model = builder.Build(new long[] { 3, 5 });
        byte[] reference = arguments.Contains("Bits", StringComparison.Ordinal) ? DequantizedOnnx.Rewrite(model, 8) : model;
        using var ort = new OnnxRuntimeReference(reference, builder.InputShape);
        (Func<float[], float[]> run, var assembly) = OnnxRuntimeComparisonTests.Compile(model, arguments);
        Type harness = assembly.GetType("Models.Harness")!;
        Assert.Equal(3 * 3 * 8 * 8, (int)harness.GetProperty("InputLength")!.GetValue(null)!);
        Assert.Equal(3 * 5, (int)harness.GetProperty("OutputLength")!.GetValue(null)!);
        float[] input = TestModels.Input(3 * 3 * 8 * 8, seed: 4).Select(v => 2 * v - 1).ToArray();
        float[] expected = ort.Run(input), actual = run(input);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"output {i}: ONNX Runtime {expected[i]}, generated {actual[i]}");
        // The samples differ, so a Run that repeated the first sample would fail above; check it is not the case.
        Assert.NotEqual(actual.Take(5), actual.Skip(5).Take(5));
    }

    // No axis is special: operators that mix a batch's samples are computed like any other, on the whole tensor.

    [Fact]
    public void A_reshape_that_merges_samples_matches_OnnxRuntime()
    {
        OnnxModelBuilder builder = new OnnxModelBuilder(new long[] { 2, 6 }, seed: 1).Gemm(6, 4).Reshape(1, 8);
        byte[] model = builder.Build(new long[] { 1, 8 });
        Assert.Equal(8, OnnxRuntimeComparisonTests.AssertFloatBuildMatches(model, model, builder.InputShape));
    }

    [Fact]
    public void A_constant_that_varies_along_the_batch_axis_matches_OnnxRuntime()
    {
        var builder = new OnnxModelBuilder(new long[] { 2, 4 }, seed: 1).Gemm(4, 4);
        string perSample = builder.Initializer("per_sample", new long[] { 2, 4 }, builder.RandomTensor(8, 1));
        builder.Node("Mul", new[] { perSample });
        byte[] model = builder.Build(new long[] { 2, 4 });
        Assert.Equal(8, OnnxRuntimeComparisonTests.AssertFloatBuildMatches(model, model, builder.InputShape));
    }
}
