using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// The attribute's path names one weight file exactly (separators and a leading "./" aside), under the platform's
/// case rules; anything else is a diagnostic that says what to do.
/// </summary>
public class PathMatchingTests
{
    private static readonly byte[] Mlp = TestModels.Mlp().Build(new long[] { 1, 10 });

    private static Diagnostic[] Errors(string attributePath, params AdditionalText[] files) =>
        GeneratorHarness.Run(TestModels.Consumer(attributePath), files).GeneratorDiagnostics.Where(d => d.DefaultSeverity == DiagnosticSeverity.Error).ToArray();

    [Theory]
    [InlineData("Models/digits.onnx")]
    [InlineData("./Models/digits.onnx")]
    [InlineData("Models\\\\digits.onnx")]
    public void The_exact_path_compiles_whatever_its_separators(string attributePath) =>
        Assert.Empty(Errors(attributePath, GeneratorHarness.WeightFile("Models/digits.onnx", Mlp)));

    [Fact]
    public void A_bare_file_name_is_not_a_match_and_the_diagnostic_suggests_the_full_path()
    {
        Diagnostic d = Assert.Single(Errors("digits.onnx", GeneratorHarness.WeightFile("Models/digits.onnx", Mlp)));
        Assert.Equal("QTAML001", d.Id);
        Assert.Contains("Did you mean 'Models/digits.onnx'?", d.GetMessage(), StringComparison.Ordinal);
        Assert.Equal("\"Models/digits.onnx\"", d.Properties["QtamlReplacement"]);
    }

    [Fact]
    public void Another_case_follows_the_platform_rules()
    {
        Diagnostic[] errors = Errors("models/Digits.onnx", GeneratorHarness.WeightFile("Models/digits.onnx", Mlp));
        if (OperatingSystem.IsWindows() || OperatingSystem.IsMacOS())
        {
            Assert.Empty(errors);   // case-insensitive file systems: the same file
            return;
        }
        Diagnostic d = Assert.Single(errors);
        Assert.Equal("QTAML001", d.Id);
        Assert.Contains("Did you mean 'Models/digits.onnx'?", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelt_path_gets_the_nearest_weight_file()
    {
        Diagnostic d = Assert.Single(Errors("Models/digts-cnn.onnx",
            GeneratorHarness.WeightFile("Models/digits-cnn.onnx", Mlp), GeneratorHarness.WeightFile("Models/digits-mlp.onnx", Mlp), GeneratorHarness.WeightFile("Other/thing.safetensors", Mlp)));
        Assert.Contains("Did you mean 'Models/digits-cnn.onnx'?", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_path_far_from_every_file_suggests_nothing()
    {
        Diagnostic d = Assert.Single(Errors("Weights/encoder-large.onnx", GeneratorHarness.WeightFile("Models/digits.onnx", Mlp)));
        Assert.DoesNotContain("Did you mean", d.GetMessage(), StringComparison.Ordinal);
        Assert.False(d.Properties.ContainsKey("QtamlReplacement"));
    }

    [Fact]
    public void Two_weight_files_under_one_path_are_ambiguous()
    {
        // Two encoded files that claim the same project path (two items with the same Link, say).
        Diagnostic d = Assert.Single(Errors("Models/digits.onnx",
            GeneratorHarness.WeightFile("Models/digits.onnx", Mlp),
            GeneratorHarness.EncodedWeightFile("obj/qtaml/other.qtaml.b64", "Models/digits.onnx", TestModels.Mlp(seed: 9).Build(new long[] { 1, 10 }))));
        Assert.Equal("QTAML021", d.Id);
    }

    [Fact]
    public void A_model_without_its_encoded_form_names_the_build_step()
    {
        // The .onnx is an AdditionalFile, but the package's targets did not run (a bare Analyzer reference).
        Diagnostic d = Assert.Single(Errors("Models/digits.onnx", new RawFile("/src/app/Models/digits.onnx")));
        Assert.Equal("QTAML022", d.Id);
        Assert.Contains("QtamlEncodeWeightFiles", d.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("PackageReference", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_encoded_under_its_Link_is_suggested_by_that_path_not_called_unencoded()
    {
        // <AdditionalFiles Include="/data/models/squeezenet.onnx" Link="RealModels/squeezenet.onnx" />: the build step
        // encoded it as RealModels/squeezenet.onnx, and the attribute names the bare file name.
        Diagnostic d = Assert.Single(Errors("squeezenet.onnx", new RawFile("/data/models/squeezenet.onnx"), GeneratorHarness.WeightFile("RealModels/squeezenet.onnx", Mlp)));
        Assert.Equal("QTAML001", d.Id);
        Assert.Contains("Did you mean 'RealModels/squeezenet.onnx'?", d.GetMessage(), StringComparison.Ordinal);
    }

    /// <summary>A weight file as the compiler sees it without the package's step: binary, so its text is of no use.</summary>
    private sealed class RawFile(string path) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From("\u0008\u0003binary");
    }
}
