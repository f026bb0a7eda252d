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

    [Fact]
    public void QTAML010_budget_below_the_noise_floor_says_how_much_TAC_needs()
    {
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path, ", Node = \"2nm\", EccBudget = 0.5"), Mlp(), "QTAML010");
        AssertAt(d, source, "0.5", DiagnosticSeverity.Warning);
        // The numbers: the budget given, and the budget TAC needs from the build's own saturation report.
        Assert.Matches(@"EccBudget = 0\.500 bits/weight .* at 2nm; TAC needs \d+\.\d{3} bits/weight to reach it \(Uniform-MSP would need \d+\.\d{3}\)", d.GetMessage());
    }

    [Fact]
    public void QTAML011_budget_above_saturation_says_how_much_is_wasted()
    {
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path, ", Node = \"7nm\", EccBudget = 8.0"), Mlp(), "QTAML011");
        AssertAt(d, source, "8.0", DiagnosticSeverity.Warning);
        var match = System.Text.RegularExpressions.Regex.Match(d.GetMessage(), @"reaches the quantization noise floor with (\d+\.\d{3}) bits/weight, so (\d+\.\d{3}) bits/weight buy nothing");
        Assert.True(match.Success, d.GetMessage());
        double needed = double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        double wasted = double.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(8.0, needed + wasted, 3);
    }

    [Fact]
    public void QTAML012_model_too_large_to_bake_gives_the_limit()
    {
        byte[] model = new OnnxModelBuilder(new long[] { 1, 2001 }, 1).Gemm(2001, 2000, 0.01).Build(new long[] { 1, 2000 });
        (Diagnostic d, string source) = Single(TestModels.Consumer(Path), model, "QTAML012");
        AssertAt(d, source, "\"" + Path + "\"", DiagnosticSeverity.Error);
        Assert.Contains("4002000 weights", d.GetMessage());
        Assert.Contains("at most 4000000", d.GetMessage());
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
    public void A_good_model_at_its_saturation_budget_reports_nothing()
    {
        // Ask the generator what TAC needs, then give exactly that: no budget warning either way.
        var first = GeneratorHarness.Run(TestModels.Consumer(Path, ", Node = \"7nm\""), new[] { GeneratorHarness.WeightFile(Path, Mlp()) });
        Diagnostic budget = first.GeneratorDiagnostics.Single(d => d.Id is "QTAML010" or "QTAML011");
        string needed = System.Text.RegularExpressions.Regex.Match(budget.GetMessage(), @"TAC (?:needs|reaches the quantization noise floor with) (\d+\.\d{3}) bits/weight").Groups[1].Value;
        var second = GeneratorHarness.Run(TestModels.Consumer(Path, ", Node = \"7nm\", EccBudget = " + needed), new[] { GeneratorHarness.WeightFile(Path, Mlp()) });
        Assert.Empty(second.GeneratorDiagnostics);
    }
}
