using System.Globalization;
using Microsoft.CodeAnalysis;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// What exporters compute from shapes and constants is computed at build time: PyTorch's dynamic flatten
/// (Shape → Gather → Unsqueeze → Concat → Reshape), a weight stored transposed, a position ramp from
/// ConstantOfShape/Range/Cast. Each model agrees with ONNX Runtime, float and 8-bit; a fold that would allocate
/// what the file merely claims is a diagnostic.
/// </summary>
public class ConstantFoldingTests
{
    private static readonly long[] InputShape = { 1, 3, 6, 6 };

    public static TheoryData<string> Models => new() { "dynamic-flatten", "transposed-weight", "position-ramp" };

    /// <param name="folded">For "transposed-weight": the same model with the weight stored as the Gemm reads it, no Transpose.</param>
    private static byte[] Build(string name, bool folded = false)
    {
        var b = new OnnxModelBuilder(InputShape, seed: 51).ConvNd(3, 4, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }).Relu();
        string features = b.Current;
        switch (name)
        {
            case "dynamic-flatten":
            {
                // x.view(x.size(0), -1) as torch.onnx exports it.
                string batch = b.From(features).Node("Shape", Array.Empty<string>()).Node("Gather", new[] { b.Int64Scalar("zero", 0) }, OnnxModelBuilder.Int("axis", 0))
                    .Node("Unsqueeze", new[] { b.Int64Initializer("axis0", new long[] { 0 }) }).Current;
                string target = b.Node("Concat", new[] { b.Int64Initializer("rest", new long[] { -1 }) }, OnnxModelBuilder.Int("axis", 0)).Current;
                b.From(features).Node("Reshape", new[] { target }).Gemm(144, 5, 0.3);
                _ = batch;
                break;
            }
            case "transposed-weight":
            {
                // A weight stored [in, out] and transposed in the graph to the [out, in] a Gemm with transB reads.
                float[] values = b.RandomTensor(720, 0.3);
                float[] transposed = Enumerable.Range(0, 720).Select(i => values[i % 144 * 5 + i / 144]).ToArray();
                string weight = folded ? b.Initializer("weight", new long[] { 5, 144 }, transposed)
                    : b.From(b.Initializer("stored", new long[] { 144, 5 }, values)).Node("Transpose", Array.Empty<string>(), OnnxModelBuilder.Ints("perm", 1, 0)).Current;
                b.From(features).Flatten().Node("Gemm", new[] { weight }, OnnxModelBuilder.Int("transB", 1));
                break;
            }
            default:
            {
                // features + (0, 0.1, 0.2, ...) along the width: Range over Shape, cast to float and scaled.
                string width = b.From(features).Node("Shape", Array.Empty<string>()).Node("Gather", new[] { b.Int64Scalar("three", 3) }, OnnxModelBuilder.Int("axis", 0)).Current;
                string ramp = b.From(b.Int64Scalar("start", 0)).Node("Range", new[] { width, b.Int64Scalar("step", 1) })
                    .Node("Cast", Array.Empty<string>(), OnnxModelBuilder.Int("to", 1))
                    .Node("Mul", new[] { b.Initializer("tenth", Array.Empty<long>(), new[] { 0.1f }) }).Current;
                string ones = b.From(b.Int64Initializer("shape", new long[] { 4, 1, 1 })).Node("ConstantOfShape", Array.Empty<string>()).Current;
                b.From(features).Node("Add", new[] { ramp }).Node("Sub", new[] { ones }).Flatten().Gemm(144, 5, 0.3);
                break;
            }
        }
        return b.Build(new long[] { 1, 5 });
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Folded_model_matches_OnnxRuntime_float_and_8_bit(string name)
    {
        byte[] model = Build(name);
        // The dequantized reference needs the weight as an initializer: for the transposed weight, the same model stored already transposed.
        byte[] initializers = name == "transposed-weight" ? Build(name, folded: true) : model;
        foreach ((string arguments, byte[] reference) in new[] { (", Quantize = false", model), (", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0", DequantizedOnnx.Rewrite(initializers, 8)) })
        {
            using var ort = new OnnxRuntimeReference(reference, InputShape);
            (Func<float[], float[]> run, _) = OnnxRuntimeComparisonTests.Compile(model, arguments);
            for (int seed = 0; seed < 5; seed++)
            {
                float[] input = TestModels.Input(108, seed).Select(v => 2 * v - 1).ToArray();
                float[] expected = ort.Run(input), actual = run(input);
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"{name}{arguments}, input {seed}, output {i}: ONNX Runtime {expected[i]}, generated {actual[i]}");
            }
        }
    }

    [Fact]
    public void A_constant_the_file_claims_is_huge_is_a_diagnostic_not_an_allocation()
    {
        var b = new OnnxModelBuilder(new long[] { 1, 4 }, seed: 1).Gemm(4, 4);
        string features = b.Current;
        string huge = b.From(b.Int64Initializer("huge", new long[] { 100000, 100000 })).Node("ConstantOfShape", Array.Empty<string>()).Current;
        byte[] model = b.From(features).Node("Add", new[] { huge }).Build(new long[] { 1, 4 });
        var result = GeneratorHarness.Run(TestModels.Consumer("Models/model.onnx", ", Quantize = false"), new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        Diagnostic error = Assert.Single(result.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("QTAML005", error.Id);
        Assert.Contains("ConstantOfShape at build time would make more than", error.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }
}
