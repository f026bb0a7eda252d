using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>Equal kernels are written once: the generated source grows with the kinds of layer, not their number.</summary>
public class KernelSharingTests
{
    private const string Path = "Models/model.onnx";

    [Fact]
    public void Dense_layers_of_one_shape_share_one_kernel_method()
    {
        var result = GeneratorHarness.Run(TestModels.Consumer(Path), new[] { GeneratorHarness.WeightFile(Path, TestModels.DeepMlp().Build(new long[] { 1, 10 })) });
        string source = result.Source;
        // 16→16 with a fused ReLU (twice), 16→16 plain (twice), 16→10: three kernels for five layers.
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Count(source, @"private static void Layer\d+_Gemm\("));
        Assert.Equal(5, System.Text.RegularExpressions.Regex.Count(source, @"private static ReadOnlySpan<float> Layer\d+_Gemm_Scale"));
        GeneratorHarness.CompileAndLoad(result.Output);
    }
}
