extern alias gen;
using Google.Protobuf;
using Microsoft.CodeAnalysis;
using Qtaml.Generators.Tests.Support;
using ModelProto = Qtaml.Generators.Onnx.Schema.ModelProto;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>Every diagnostic: its ID, its severity, and the argument it points at.</summary>
public class DiagnosticTests
{
    private const string Path = "Models/model.onnx";

    /// <summary>The one diagnostic with <paramref name="id"/>, and the source it was reported on.</summary>
    private static (Diagnostic Diagnostic, string Source) Single(string source, byte[]? model, string id)
    {
        var files = model is null ? Array.Empty<AdditionalText>() : new[] { GeneratorHarness.WeightFile(Path, model) };
        var result = GeneratorHarness.Run(source, files);
        Diagnostic[] matching = result.GeneratorDiagnostics.Where(d => d.Id == id).ToArray();
        Assert.True(matching.Length == 1, $"expected one {id}, got: " + string.Join("; ", result.GeneratorDiagnostics));
        Assert.Empty(result.GeneratorDiagnostics.Where(d => d.Id != id && d.DefaultSeverity == DiagnosticSeverity.Error));
        return (matching[0], source);
    }

    /// <summary>
    /// The diagnostic sits in the user's file on exactly <paramref name="expectedText"/>. Locations travel
    /// through the pipeline as path and span (no syntax tree), so they are checked the same way.
    /// </summary>
    private static void AssertAt(Diagnostic diagnostic, string source, string expectedText, DiagnosticSeverity severity)
    {
        Assert.Equal(severity, diagnostic.DefaultSeverity);
        FileLinePositionSpan where = diagnostic.Location.GetLineSpan();
        Assert.Equal("Source0.cs", where.Path);
        Assert.Equal(expectedText, source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        Assert.StartsWith("https://", diagnostic.Descriptor.HelpLinkUri);
    }

    private static byte[] Mlp() => TestModels.Mlp().Build(new long[] { 1, 10 });

    private static byte[] Mutate(byte[] model, Action<ModelProto> change)
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(model);
        change(proto);
        return proto.ToByteArray();
    }

    [Fact]
    public void QTAML001_file_missing_from_AdditionalFiles_points_at_the_path()
    {
        (Diagnostic d, string source) = Single(TestModels.Consumer("Models/missing.onnx"), Mlp(), "QTAML001");
        AssertAt(d, source, "\"Models/missing.onnx\"", DiagnosticSeverity.Error);
        Assert.Contains("'Models/missing.onnx' is not among the project's weight files.", d.GetMessage());
    }

    [Theory]
    [InlineData("Conv")]
    [InlineData("MaxPool")]
    public void QTAML002_for_auto_pad_together_with_pads_names_the_file_and_the_node(string op)
    {
        var builder = new OnnxModelBuilder(new long[] { 1, 1, 6, 6 }, 4);
        builder = op == "Conv" ? builder.Conv(1, 2, 3, pad: 1) : builder.MaxPool(2, 2, pad: 1);
        var autoPad = new Qtaml.Generators.Onnx.Schema.AttributeProto { Name = "auto_pad", S = Google.Protobuf.ByteString.CopyFromUtf8("VALID"), Type = Qtaml.Generators.Onnx.Schema.AttributeProto.Types.AttributeType.String };
        var model = Qtaml.Generators.Onnx.Schema.ModelProto.Parser.ParseFrom(builder.Flatten().Gemm(op == "Conv" ? 72 : 16, 3).Build(new long[] { 1, 3 }));
        model.Graph.Node[0].Attribute.Add(autoPad);
        (Diagnostic d, _) = Single(TestModels.Consumer(Path), Google.Protobuf.MessageExtensions.ToByteArray(model), "QTAML002");
        Assert.Contains("'" + Path + "'", d.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("both auto_pad = VALID and pads", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void QTAML002_malformed_file_points_at_the_path()
    {
        byte[] garbage = Enumerable.Range(0, 300).Select(i => (byte)(i * 37 + 11)).ToArray();
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path), garbage, "QTAML002");
        AssertAt(d, source, "\"" + Path + "\"", DiagnosticSeverity.Error);
        Assert.Contains("cannot be read", d.GetMessage());
    }

    [Fact]
    public void QTAML003_unsupported_operator_names_it()
    {
        byte[] model = Mutate(Mlp(), m => m.Graph.Node[1].OpType = "TopK");
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path), model, "QTAML003");
        AssertAt(d, source, "\"" + Path + "\"", DiagnosticSeverity.Error);
        Assert.Contains("'TopK'", d.GetMessage());
    }

    [Fact]
    public void QTAML003_lists_every_unsupported_operator_with_its_nodes_in_one_diagnostic()
    {
        byte[] model = Mutate(Mlp(), m =>
        {
            m.Graph.Node[0].OpType = "Mod";
            m.Graph.Node[1].OpType = "TopK";
            m.Graph.Node[3].OpType = "TopK";
        });
        (Diagnostic d, _) = Single(TestModels.Consumer(Path), model, "QTAML003");
        string message = d.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("uses 2 operators 'Mod' (node '" + Parsed(model).Graph.Node[0].Name + "'), 'TopK' (2 nodes: '"
            + Parsed(model).Graph.Node[1].Name + "', '" + Parsed(model).Graph.Node[3].Name + "')", message, StringComparison.Ordinal);
    }

    private static ModelProto Parsed(byte[] model) => ModelProto.Parser.ParseFrom(model);

    [Fact]
    public void QTAML004_unsupported_data_type_names_the_tensor()
    {
        byte[] model = Mutate(Mlp(), m => m.Graph.Initializer[0].DataType = 11);
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path), model, "QTAML004");
        AssertAt(d, source, "\"" + Path + "\"", DiagnosticSeverity.Error);
        Assert.Contains("data type 11", d.GetMessage());
    }

    [Fact]
    public void QTAML005_shape_mismatch_says_what_does_not_fit()
    {
        byte[] model = new OnnxModelBuilder(new long[] { 1, 20 }, 1).Gemm(20, 16).Relu().Gemm(15, 10).Build(new long[] { 1, 10 });
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path), model, "QTAML005");
        AssertAt(d, source, "\"" + Path + "\"", DiagnosticSeverity.Error);
        Assert.Contains("expects 15 inputs but the previous layer gives 16", d.GetMessage());
    }

    [Fact]
    public void QTAML006_class_not_partial_points_at_the_class_name()
    {
        string notPartial = "[Qtaml.TunnelingCompensated(\"" + Path + "\")] public static class Digits { }";
        (Diagnostic d, string source) = Single(notPartial, Mlp(), "QTAML006");
        AssertAt(d, source, "Digits", DiagnosticSeverity.Error);
    }

    [Fact]
    public void QTAML007_unknown_node_lists_the_known_ones()
    {
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path, ", Node = \"1nm\""), Mlp(), "QTAML007");
        AssertAt(d, source, "\"1nm\"", DiagnosticSeverity.Error);
        Assert.Contains("7nm, 5nm, 3nm, 2nm, A14", d.GetMessage());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    public void QTAML008_bits_out_of_range_points_at_Bits(int bits)
    {
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path, ", Bits = " + bits), Mlp(), "QTAML008");
        AssertAt(d, source, bits.ToString(System.Globalization.CultureInfo.InvariantCulture), DiagnosticSeverity.Error);
    }

    [Theory]
    [InlineData("-0.5")]
    [InlineData("8.5")]
    public void QTAML009_budget_out_of_range_points_at_EccBudget(string budget)
    {
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path, ", EccBudget = " + budget), Mlp(), "QTAML009");
        AssertAt(d, source, budget, DiagnosticSeverity.Error);
        Assert.Contains("between 0 and Bits = 8", d.GetMessage());
    }

    private const string CalibrationPath = "Models/calibration.npy";

    /// <summary>64 unlabeled inputs for the test MLP (20 values each), as numpy.save writes them.</summary>
    internal static byte[] Calibration() => Qtaml.Calibration.NpyFile.ToBytes(Enumerable.Range(0, 64).SelectMany(i => TestModels.Input(20, 100 + i)).ToArray(), 64, 20);

    private static GeneratorHarness.Result Calibrated(string arguments) => GeneratorHarness.Run(TestModels.Consumer(Path, ", Calibration = \"" + CalibrationPath + "\"" + arguments),
        new[] { GeneratorHarness.WeightFile(Path, Mlp()), GeneratorHarness.WeightFile(CalibrationPath, Calibration()) });

    private static double Number(string message, string pattern) =>
        double.Parse(System.Text.RegularExpressions.Regex.Match(message, pattern).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void QTAML010_budget_below_the_target_says_what_it_keeps_and_what_each_allocator_needs()
    {
        var run = Calibrated(", FlipProbability = 0.2, EccBudget = 0.0");
        Diagnostic d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("QTAML010", d.Id);
        Assert.Equal(DiagnosticSeverity.Warning, d.DefaultSeverity);
        Assert.Matches(@"^EccBudget = 0\.000 bits/weight is predicted to keep \d+\.\d % of decisions at p = 0\.2, below the target 95\.0 %; TAC needs \d+\.\d{3} bits/weight for it \(Uniform-MSP \d+\.\d{3}, magnitude-based \d+\.\d{3}\)\. Predicted on 64 calibration inputs\.$", d.GetMessage());
        double tac = Number(d.GetMessage(), @"TAC needs (\d+\.\d+)"), uniform = Number(d.GetMessage(), @"Uniform-MSP (\d+\.\d+)");
        Assert.InRange(tac, 0.001, uniform);
        // The code fix's value is the budget the message names; given it, the warning goes.
        Assert.Equal(tac, double.Parse(d.Properties["QtamlReplacement"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(Calibrated(", FlipProbability = 0.2, EccBudget = " + d.Properties["QtamlReplacement"]).GeneratorDiagnostics);
    }

    [Fact]
    public void QTAML011_budget_far_above_the_target_says_how_much_buys_little()
    {
        // The test MLP's random inputs have small margins: the target needs most of its 8 bits; all 8 are too many.
        var run = Calibrated(", FlipProbability = 0.2, EccBudget = 8.0");
        Diagnostic d = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("QTAML011", d.Id);
        Assert.Equal(DiagnosticSeverity.Warning, d.DefaultSeverity);
        double needed = Number(d.GetMessage(), @"with (\d+\.\d{3}) bits/weight"), wasted = Number(d.GetMessage(), @"so (\d+\.\d{3}) bits/weight buy little");
        Assert.Equal(8.0, needed + wasted, 3);
        Assert.Contains("keeps 95.0 % of decisions", d.GetMessage());
    }

    [Fact]
    public void A_budget_that_meets_the_target_is_silent_and_a_stricter_target_asks_for_more()
    {
        string needed = Calibrated(", FlipProbability = 0.2, EccBudget = 0.0").GeneratorDiagnostics.Single().Properties["QtamlReplacement"]!;
        var met = Calibrated(", FlipProbability = 0.2, EccBudget = " + needed);
        Assert.Empty(met.GeneratorDiagnostics);
        // Info carries the same forecast, and says it to an engineer.
        var info = (ModelInfo)GeneratorHarness.CompileAndLoad(met.Output).GetType("Models.Harness")!.GetProperty("Info")!.GetValue(null)!;
        AgreementForecast forecast = info.Forecast!;
        Assert.Equal(64, forecast.Samples);
        Assert.True(forecast.PredictedAgreement >= 0.95 && forecast.TacBudget <= info.EccBudget, info.ToString());
        Assert.Equal(double.Parse(needed, System.Globalization.CultureInfo.InvariantCulture), Math.Ceiling(forecast.TacBudget * 1000 - 1e-6) / 1000, 9);
        Assert.StartsWith("  calibrated on 64 inputs: predicted to keep ", info.ToString().Split('\n')[2], StringComparison.Ordinal);
        Diagnostic stricter = Calibrated(", FlipProbability = 0.2, TargetAgreement = 0.999, EccBudget = " + needed).GeneratorDiagnostics.Single();
        Assert.Equal("QTAML010", stricter.Id);
        Assert.Contains("below the target 99.9 %", stricter.GetMessage());
    }

    [Fact]
    public void QTAML028_without_calibration_the_budget_is_reported_unchecked_as_information_with_the_data_free_bound()
    {
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path, ", Node = \"2nm\", EccBudget = 0.5"), Mlp(), "QTAML028");
        AssertAt(d, source, "0.5", DiagnosticSeverity.Info);
        Assert.Matches(@"EccBudget = 0\.500 bits/weight is not checked against an accuracy target at 2nm: the build has no calibration inputs\..*Data-free bound: TAC reaches the quantization noise floor with \d+\.\d{3} bits/weight \(Uniform-MSP \d+\.\d{3}\)", d.GetMessage());
    }

    [Theory]
    [InlineData("Models/calibraton.npy", null, "it is not among the project's files (the Qtaml package adds every *.npy under the project); did you mean 'Models/calibration.npy'?")]
    [InlineData(CalibrationPath, "rows of 9", "its samples have 9 values (shape [64, 9]) and the model's input [1, 20] has 20; save an array of shape [N, 20], one input a row")]
    [InlineData(CalibrationPath, "not npy", "it does not start with the .npy magic string (\\x93NUMPY); save it with Qtaml.Calibration.CalibrationRecorder or NpyFile.Write, qtaml calibration, or numpy.save")]
    public void QTAML026_unusable_calibration_inputs_point_at_Calibration_and_say_why(string path, string? defect, string reason)
    {
        byte[] calibration = defect switch
        {
            "rows of 9" => Qtaml.Calibration.NpyFile.ToBytes(new float[64 * 9], 64, 9),
            "not npy" => System.Text.Encoding.ASCII.GetBytes("pixels,label\n0,1\n"),
            _ => Calibration(),
        };
        string source = TestModels.Consumer(Path, ", Calibration = \"" + path + "\"");
        var result = GeneratorHarness.Run(source, new[] { GeneratorHarness.WeightFile(Path, Mlp()), GeneratorHarness.WeightFile(CalibrationPath, calibration) });
        Diagnostic d = Assert.Single(result.GeneratorDiagnostics);
        Assert.Equal("QTAML026", d.Id);
        AssertAt(d, source, "\"" + path + "\"", DiagnosticSeverity.Error);
        Assert.Equal("The calibration file '" + path + "' cannot be used: " + reason, d.GetMessage());
    }

    [Fact]
    public void QTAML026_from_MSBuild_metadata_points_at_the_model_path()
    {
        var metadata = new Dictionary<string, string> { ["QtamlCalibration"] = "Models/none.npy" };
        string source = TestModels.Consumer(Path);
        var result = GeneratorHarness.Run(source, new[] { GeneratorHarness.WeightFile(Path, Mlp(), metadata) });
        Diagnostic d = Assert.Single(result.GeneratorDiagnostics);
        Assert.Equal("QTAML026", d.Id);
        AssertAt(d, source, "\"" + Path + "\"", DiagnosticSeverity.Error);
    }

    [Theory]
    [InlineData("0.0")]
    [InlineData("1.5")]
    public void QTAML027_target_agreement_out_of_range_points_at_it(string value)
    {
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path, ", TargetAgreement = " + value), Mlp(), "QTAML027");
        AssertAt(d, source, value, DiagnosticSeverity.Error);
    }

    [Fact]
    public void QTAML012_model_too_large_to_bake_gives_the_limit()
    {
        // 17 Gemm layers that all use one 2000 x 2000 initializer: a 16 MB file whose layers hold 68,000,000 weights,
        // past the 64,000,000 a class bakes.
        var builder = new OnnxModelBuilder(new long[] { 1, 2000 }, 1);
        float[] w = Enumerable.Range(0, 2000 * 2000).Select(i => (i % 7 - 3) * 0.001f).ToArray();
        string weight = builder.Initializer("w", new long[] { 2000, 2000 }, w), bias = builder.Initializer("b", new long[] { 2000 }, new float[2000]);
        for (int layer = 0; layer < 17; layer++) builder.Node("Gemm", new[] { weight, bias }, OnnxModelBuilder.Int("transB", 1));
        byte[] model = builder.Build(new long[] { 1, 2000 });
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path), model, "QTAML012");
        AssertAt(d, source, "\"" + Path + "\"", DiagnosticSeverity.Error);
        Assert.Contains("68,000,000 weights in its weight layers", d.GetMessage());
        Assert.Contains("at most 64,000,000", d.GetMessage());
    }

    [Fact]
    public void QTAML013_flip_probability_out_of_range_points_at_it()
    {
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path, ", FlipProbability = 0.7"), Mlp(), "QTAML013");
        AssertAt(d, source, "0.7", DiagnosticSeverity.Error);
    }

    [Fact]
    public void QTAML015_unphysical_node_parameter_points_at_it()
    {
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path, ", ReverseLeakRatio = 2.0"), Mlp(), "QTAML015");
        AssertAt(d, source, "2.0", DiagnosticSeverity.Error);
        Assert.Contains("reverse-leak ratio", d.GetMessage());
    }

    [Theory]
    [InlineData("0.0")]
    [InlineData("-2.5")]
    public void QTAML017_input_mean_square_out_of_range_points_at_it(string value)
    {
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path, ", InputMeanSquare = " + value), Mlp(), "QTAML017");
        AssertAt(d, source, value, DiagnosticSeverity.Error);
        Assert.Contains("mean square", d.GetMessage());
    }

    [Fact]
    public void QTAML014_non_finite_weights_name_the_tensor()
    {
        byte[] model = Mutate(Mlp(), m =>
        {
            byte[] raw = m.Graph.Initializer[0].RawData.ToByteArray();
            BitConverter.GetBytes(float.NaN).CopyTo(raw, 8);
            m.Graph.Initializer[0].RawData = ByteString.CopyFrom(raw);
        });
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path), model, "QTAML014");
        AssertAt(d, source, "\"" + Path + "\"", DiagnosticSeverity.Error);
    }

    [Fact]
    public void A_model_calibrated_through_MSBuild_metadata_is_forecast_like_one_calibrated_by_the_attribute()
    {
        var metadata = new Dictionary<string, string> { ["QtamlCalibration"] = CalibrationPath };
        var fromMetadata = GeneratorHarness.Run(TestModels.Consumer(Path, ", FlipProbability = 0.2, EccBudget = 0.0"),
            new[] { GeneratorHarness.WeightFile(Path, Mlp(), metadata), GeneratorHarness.WeightFile(CalibrationPath, Calibration()) });
        Assert.Equal(Calibrated(", FlipProbability = 0.2, EccBudget = 0.0").GeneratorDiagnostics.Single().GetMessage(), fromMetadata.GeneratorDiagnostics.Single().GetMessage());
        Assert.Contains("Calibrated on 64 inputs", fromMetadata.Source);
    }
}
