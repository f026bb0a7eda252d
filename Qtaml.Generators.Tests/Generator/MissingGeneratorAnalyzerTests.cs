using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Qtaml.Generators.Tests.Support;
using Qtaml.Runtime.Analyzers;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>The Qtaml.Runtime package's analyzer: a model class without the generator package gets one clear error, not CS0117 at every call.</summary>
public class MissingGeneratorAnalyzerTests
{
    private const string Source = """
        namespace App
        {
            [global::Qtaml.TunnelingCompensated("Models/digits.onnx")]
            public static partial class Digits { }
        }
        """;

    private static async Task<ImmutableArray<Diagnostic>> Analyze(bool generatorImported)
    {
        var options = new BuildProperties(generatorImported ? new Dictionary<string, string> { ["build_property.QtamlGeneratorsImported"] = "true" } : new());
        var analyzers = ImmutableArray.Create<DiagnosticAnalyzer>(new MissingGeneratorAnalyzer());
        var withAnalyzers = GeneratorHarness.CreateCompilation(Source).WithAnalyzers(analyzers, new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty, options));
        return await withAnalyzers.GetAnalyzerDiagnosticsAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Without_the_generator_package_the_attribute_is_an_error_that_says_what_to_add()
    {
        Diagnostic d = Assert.Single(await Analyze(generatorImported: false));
        Assert.Equal("QTAML023", d.Id);
        Assert.Contains("dotnet add package Qtaml.Generators", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Equal("Digits", Source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
    }

    [Fact]
    public async Task With_the_generator_package_it_is_silent() => Assert.Empty(await Analyze(generatorImported: true));

    private sealed class BuildProperties(Dictionary<string, string> values) : AnalyzerConfigOptionsProvider
    {
        private readonly Options _global = new(values);

        public override AnalyzerConfigOptions GlobalOptions => _global;

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => _global;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => _global;

        private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
        }
    }
}
