using System.Reflection;
using Qtaml.Faults;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>Generated code against ONNX Runtime on the same file, over 100 seeded inputs.</summary>
public class OnnxRuntimeComparisonTests
{
    private const int Inputs = 100;

    internal static (Func<float[], float[]> Run, Assembly Assembly) Compile(byte[] model, string arguments)
    {
        var result = GeneratorHarness.Run(TestModels.Consumer("Models/model.onnx", arguments), new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        var errors = result.GeneratorDiagnostics.Where(d => d.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).ToArray();
        Assert.True(errors.Length == 0, string.Join("; ", errors.Select(d => d.Id + ": " + d.GetMessage(System.Globalization.CultureInfo.InvariantCulture))));
        Assembly assembly = GeneratorHarness.CompileAndLoad(result.Output);
        Type harness = assembly.GetType("Models.Harness")!;
        int outputs = (int)harness.GetProperty("OutputLength")!.GetValue(null)!;
        MethodInfo run = harness.GetMethod("Run")!;
        return (input =>
        {
            var output = new float[outputs];
            run.Invoke(null, new object[] { input, output });
            return output;
        }, assembly);
    }

    /// <summary>
    /// The float build of <paramref name="compiled"/> against ONNX Runtime running <paramref name="reference"/> (the
    /// same file, or the plain form of it), within 1e-5 on four seeded inputs in [-1, 1]; returns the output length.
    /// </summary>
    internal static int AssertFloatBuildMatches(byte[] reference, byte[] compiled, long[] inputShape)
    {
        using var ort = new OnnxRuntimeReference(reference, inputShape);
        (Func<float[], float[]> run, _) = Compile(compiled, ", Quantize = false");
        int length = (int)inputShape.Aggregate(1L, (a, b) => a * b), outputs = 0;
        for (int seed = 0; seed < 4; seed++)
        {
            float[] input = TestModels.Input(length, seed + 4).Select(v => 2 * v - 1).ToArray();
            float[] expected = ort.Run(input), actual = run(input);
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"input {seed}, output {i}: ONNX Runtime {expected[i]}, generated {actual[i]}");
            outputs = actual.Length;
        }
        return outputs;
    }

    public static TheoryData<string> Models => new() { "mlp", "wide-mlp", "deep-mlp", "cnn", "cnn-batchnorm", "channels-last-cnn" };

    private static OnnxModelBuilder Build(string name) => name switch
    {
        "mlp" => TestModels.Mlp(),
        "wide-mlp" => TestModels.WideMlp(),
        "deep-mlp" => TestModels.DeepMlp(),
        "cnn" => TestModels.Cnn(),
        "channels-last-cnn" => TestModels.ChannelsLastCnn(),
        _ => TestModels.CnnWithBatchNorm(),
    };

    private static long[] OutputShape => new long[] { 1, 10 };

    [Theory]
    [MemberData(nameof(Models))]
    public void Unquantized_reference_path_matches_OnnxRuntime_within_1e_4(string name)
    {
        OnnxModelBuilder builder = Build(name);
        byte[] model = builder.Build(OutputShape);
        using var reference = new OnnxRuntimeReference(model, builder.InputShape);
        (Func<float[], float[]> run, _) = Compile(model, ", Quantize = false");
        int length = (int)builder.InputShape.Skip(1).Aggregate(1L, (a, b) => a * b);
        for (int seed = 0; seed < Inputs; seed++)
        {
            float[] input = TestModels.Input(length, seed);
            float[] expected = reference.Run(input), actual = run(input);
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4, $"{name}, input {seed}, output {i}: ONNX Runtime {expected[i]}, generated {actual[i]}");
        }
    }

    [Theory]
    [InlineData("mlp", 8)]
    [InlineData("cnn", 8)]
    [InlineData("mlp", 12)]
    [InlineData("wide-mlp", 8)]
    [InlineData("wide-mlp", 5)]
    [InlineData("cnn", 4)]
    [InlineData("cnn", 12)]
    public void Quantized_path_stays_within_the_bound_derived_from_the_quantization_step(string name, int bits)
    {
        // No flips (FlipProbability = 0): the only difference from ONNX Runtime is rounding each weight to its
        // channel's step. QuantizationBound derives, per input and output, how far that can move the result.
        OnnxModelBuilder builder = Build(name);
        byte[] model = builder.Build(OutputShape);
        using var reference = new OnnxRuntimeReference(model, builder.InputShape);
        (Func<float[], float[]> run, _) = Compile(model, $", Bits = {bits}, FlipProbability = 0.0, EccBudget = 0.0");
        int[] inputShape = builder.InputShape.Skip(1).Select(d => (int)d).ToArray();
        int length = inputShape.Aggregate(1, (a, b) => a * b);
        double largestError = 0;
        for (int seed = 0; seed < Inputs; seed++)
        {
            float[] input = TestModels.Input(length, seed);
            float[] expected = reference.Run(input), actual = run(input);
            (_, double[] bound) = QuantizationBound.Propagate(builder.Ops, input, inputShape, bits);
            for (int i = 0; i < expected.Length; i++)
            {
                double error = Math.Abs(expected[i] - actual[i]);
                largestError = Math.Max(largestError, error);
                Assert.True(error <= bound[i] + 1e-5, $"{name}, {bits} bits, input {seed}, output {i}: error {error} above the bound {bound[i]}");
            }
        }
        Assert.True(largestError > 0, "quantization should change the outputs at least a little");
    }

    [Theory]
    [InlineData(8)]
    [InlineData(4)]
    [InlineData(12)]   // codes stored as 16-bit words: the table is converted one code at a time
    public void Channels_last_convolutions_and_pooling_match_OnnxRuntime_on_the_same_quantized_weights(int bits)
    {
        // Padded pooling has no reference in QuantizationBound, so ONNX Runtime runs the model with every weight
        // replaced by its dequantized value: the generated code must then agree to float rounding.
        OnnxModelBuilder builder = TestModels.ChannelsLastCnn();
        byte[] model = builder.Build(OutputShape);
        using var reference = new OnnxRuntimeReference(DequantizedOnnx.Rewrite(model, bits), builder.InputShape);
        (Func<float[], float[]> run, _) = Compile(model, $", Bits = {bits}, FlipProbability = 0.0, EccBudget = 0.0");
        double largest = 0;
        for (int seed = 0; seed < Inputs; seed++)
        {
            float[] input = TestModels.Input(3 * 9 * 9, seed).Select(v => 2 * v - 1).ToArray();   // signed: the ReLU and max pooling matter
            float[] expected = reference.Run(input), actual = run(input);
            for (int i = 0; i < expected.Length; i++) largest = Math.Max(largest, Math.Abs(expected[i] - actual[i]));
        }
        Assert.True(largest <= 1e-5, $"largest difference from ONNX Runtime: {largest:G3}");
    }

    [Theory]
    [InlineData(", Quantize = false", 0)]
    [InlineData(", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0", 8)]
    public void A_wide_token_wise_projection_loops_over_its_output_groups_and_matches_OnnxRuntime(string arguments, int bits)
    {
        // 3 tokens x 16 inputs to 203 outputs: more than two register groups of whole output vectors at every width
        // (the kernel loops over them) and a row that ends mid-vector (written through a buffer).
        var builder = new OnnxModelBuilder(new long[] { 1, 3, 16 }, 8).MatMulAdd(16, 203);
        byte[] model = builder.Build(new long[] { 1, 3, 203 });
        using var reference = new OnnxRuntimeReference(bits == 0 ? model : DequantizedOnnx.Rewrite(model, bits), new long[] { 1, 3, 16 });
        (Func<float[], float[]> run, Assembly assembly) = Compile(model, arguments);
        Assert.Contains(GeneratorHarness.Implementation(assembly, "Model").GetMethods(BindingFlags.NonPublic | BindingFlags.Static), m => m.Name.EndsWith("_MatMul", StringComparison.Ordinal));
        double largest = 0;
        for (int seed = 0; seed < Inputs; seed++)
        {
            float[] input = TestModels.Input(3 * 16, seed).Select(v => 2 * v - 1).ToArray();
            float[] expected = reference.Run(input), actual = run(input);
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++) largest = Math.Max(largest, Math.Abs(expected[i] - actual[i]) / (1 + Math.Abs(expected[i])));
        }
        Assert.True(largest <= 1e-5, $"largest relative difference from ONNX Runtime: {largest:G3}");
    }

    [Fact]
    public void Weight_image_path_runs_the_same_code_as_the_baked_path()
    {
        byte[] model = TestModels.Cnn().Build(OutputShape);
        var result = GeneratorHarness.Run(TestModels.Consumer("Models/model.onnx", ", FlipProbability = 0.1, EccBudget = 2.0"), new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        Type harness = GeneratorHarness.CompileAndLoad(result.Output).GetType("Models.Harness")!;
        var image = (WeightImage)harness.GetMethod("CreateWeightImage")!.Invoke(null, null)!;
        var info = (ModelInfo)harness.GetProperty("Info")!.GetValue(null)!;
        float[] input = TestModels.Input(144, 5);
        float[] baked = new float[10], fromImage = new float[10];
        harness.GetMethod("Run")!.Invoke(null, new object[] { input, baked });
        harness.GetMethod("RunImage")!.Invoke(null, new object[] { image, input, fromImage });
        Assert.Equal(baked, fromImage);

        // Faults change the output; protected planes never flip, so all-protected layers keep theirs.
        TunnelingFaultModel.Symmetric(0.1).Inject(image, info.Protection, seed: 3);
        harness.GetMethod("RunImage")!.Invoke(null, new object[] { image, input, fromImage });
        Assert.NotEqual(baked, fromImage);
        Assert.Equal(3, info.Layers.Count);
        Assert.Equal(info.Layers.Select(l => l.ProtectedPlanes), info.Protection);
    }
}
