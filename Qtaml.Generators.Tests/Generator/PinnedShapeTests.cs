using System.Globalization;
using Google.Protobuf;
using Microsoft.CodeAnalysis;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// Symbolic dimensions are pinned by the attribute's InputShape or the weight file's QtamlInputShape metadata (the
/// attribute wins); an unpinned one is a diagnostic that names it and the property; an input pinned to constant
/// values (ConstantInputs) leaves Run and folds. The audio front end of a keyword spotter (a 1-D convolution STFT,
/// power, Clip, Log, ReduceMax over time) with a pinned sample count agrees with ONNX Runtime, float and 8-bit.
/// </summary>
public class PinnedShapeTests
{
    private const int Samples = 400, Window = 32, Hop = 16, Frequencies = 12;

    /// <summary>audio [1, 1, samples] → STFT (Conv1d of cos and sin rows) → re² + im² → Clip(1e-6) → Log → max over frames → Gemm to 4.</summary>
    private static byte[] AudioFrontEnd()
    {
        var b = new OnnxModelBuilder(new long[] { 1, 1, Samples }, seed: 61);
        var basis = new float[2 * Frequencies * Window];
        for (int f = 0; f < Frequencies; f++)
            for (int n = 0; n < Window; n++)
            {
                double hann = 0.5 - 0.5 * Math.Cos(2 * Math.PI * n / Window), angle = 2 * Math.PI * (f + 1) * n / Window;
                basis[f * Window + n] = (float)(hann * Math.Cos(angle));
                basis[(Frequencies + f) * Window + n] = (float)(-hann * Math.Sin(angle));
            }
        string spectrum = b.Node("Conv", new[] { b.Initializer("stft", new long[] { 2 * Frequencies, 1, Window }, basis) }, OnnxModelBuilder.Ints("strides", Hop)).Current;
        string squared = b.Node("Mul", new[] { spectrum }).Current;
        var split = new NodeProto { OpType = "Split", Name = "re_im" };
        split.Input.Add(squared);
        split.Output.Add("re2");
        split.Output.Add("im2");
        split.Attribute.Add(OnnxModelBuilder.Int("axis", 1));
        b.Raw(split).From("re2").Node("Add", new[] { "im2" })
            .Node("Clip", new[] { b.Initializer("floor", Array.Empty<long>(), new[] { 1e-6f }) })
            .Node("Log", Array.Empty<string>())
            .Node("ReduceMax", Array.Empty<string>(), OnnxModelBuilder.Ints("axes", 2), OnnxModelBuilder.Int("keepdims", 0))
            .Gemm(Frequencies, 4, 0.3);
        return Symbolic(b.Build(new long[] { 1, 4 }), 2, "samples");
    }

    /// <summary>The model with input dimension <paramref name="axis"/> made symbolic under <paramref name="name"/>.</summary>
    private static byte[] Symbolic(byte[] model, int axis, string name)
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(model);
        proto.Graph.Input[0].Type.TensorType.Shape.Dim[axis] = new TensorShapeProto.Types.Dimension { DimParam = name };
        return proto.ToByteArray();
    }

    private static float[] Audio(int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, Samples).Select(n => (float)(0.6 * Math.Sin(2 * Math.PI * (3 + seed) * n / Window) + 0.2 * (random.NextDouble() - 0.5))).ToArray();
    }

    [Theory]
    [InlineData(", Quantize = false")]
    [InlineData(", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0")]
    public void Audio_front_end_with_a_pinned_sample_count_matches_OnnxRuntime(string arguments)
    {
        byte[] model = AudioFrontEnd();
        byte[] reference = arguments.Contains("Bits", StringComparison.Ordinal) ? DequantizedOnnx.Rewrite(model, 8) : model;
        using var ort = new OnnxRuntimeReference(reference, new long[] { 1, 1, Samples });
        (Func<float[], float[]> run, _) = OnnxRuntimeComparisonTests.Compile(model, arguments + ", InputShape = \"1,1," + Samples + "\"");
        for (int seed = 0; seed < 5; seed++)
        {
            float[] expected = ort.Run(Audio(seed)), actual = run(Audio(seed));
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"{arguments}, input {seed}, output {i}: ONNX Runtime {expected[i]}, generated {actual[i]}");
        }
    }

    [Fact]
    public void An_unpinned_symbolic_dimension_is_a_diagnostic_naming_it_and_the_property()
    {
        var result = GeneratorHarness.Run(TestModels.Consumer("Models/model.onnx", ", Quantize = false"), new[] { GeneratorHarness.WeightFile("Models/model.onnx", AudioFrontEnd()) });
        Diagnostic error = Assert.Single(result.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        string message = error.GetMessage(CultureInfo.InvariantCulture);
        Assert.Equal("QTAML005", error.Id);
        Assert.Contains("input dimension 2 ('samples') is symbolic", message, StringComparison.Ordinal);
        Assert.Contains("InputShape = \"1,1,?\"", message, StringComparison.Ordinal);
        Assert.Contains("QtamlInputShape", message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_weight_files_MSBuild_metadata_pins_the_shape_and_the_attribute_wins()
    {
        AdditionalText file = GeneratorHarness.WeightFile("Models/model.onnx", AudioFrontEnd(), new Dictionary<string, string> { ["QtamlInputShape"] = "1,1," + Samples });
        var fromMetadata = GeneratorHarness.Run(TestModels.Consumer("Models/model.onnx", ", Quantize = false"), new[] { file });
        Assert.Empty(fromMetadata.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Contains("public static int InputLength => " + Samples + ";", fromMetadata.Source, StringComparison.Ordinal);

        var overridden = GeneratorHarness.Run(TestModels.Consumer("Models/model.onnx", ", Quantize = false, InputShape = \"1,1,160\""), new[] { file });
        Assert.Empty(overridden.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Contains("public static int InputLength => 160;", overridden.Source, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1,1,x", "'x' is not a dimension")]
    [InlineData("1,400", "has 3 dimensions and the shape gives 2")]
    [InlineData("1,2,400", "dimension 1 of the input 'input' is 1 in the file, not 2")]
    [InlineData("audio=1,1,400", "the model has no input 'audio'; its inputs are 'input'")]
    public void A_pin_that_does_not_fit_is_QTAML024_on_the_InputShape_argument(string pin, string reason)
    {
        string source = TestModels.Consumer("Models/model.onnx", ", Quantize = false, InputShape = \"" + pin + "\"");
        var result = GeneratorHarness.Run(source, new[] { GeneratorHarness.WeightFile("Models/model.onnx", AudioFrontEnd()) });
        Diagnostic error = Assert.Single(result.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("QTAML024", error.Id);
        Assert.Contains(reason, error.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Equal("\"" + pin + "\"", source.Substring(error.Location.SourceSpan.Start, error.Location.SourceSpan.Length));
    }

    [Fact]
    public void A_constant_input_leaves_Run_and_folds_into_the_model()
    {
        // y = Gemm(x) * gain, where gain is a graph input the build pins to 0.5.
        var b = new OnnxModelBuilder(new long[] { 1, 6 }, seed: 62);
        string gain = b.AddInput("gain", new long[] { 1 });
        byte[] model = b.Gemm(6, 3).Node("Mul", new[] { gain }).Build(new long[] { 1, 3 });
        (Func<float[], float[]> run, _) = OnnxRuntimeComparisonTests.Compile(model, ", Quantize = false, ConstantInputs = \"gain=0.5\"");
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(model);
        float[] x = TestModels.Input(6, 3);
        using var expected = session.Run(new[]
        {
            Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("input", new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(x, new[] { 1, 6 })),
            Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("gain", new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(new[] { 0.5f }, new[] { 1 })),
        });
        float[] reference = expected[0].AsTensor<float>().ToArray(), actual = run(x);
        for (int i = 0; i < 3; i++) Assert.True(Math.Abs(reference[i] - actual[i]) <= 1e-5, $"output {i}: ONNX Runtime {reference[i]}, generated {actual[i]}");
    }
}
