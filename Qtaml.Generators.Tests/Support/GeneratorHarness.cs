extern alias gen;
using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using QtamlGenerator = gen::Qtaml.Generators.TunnelingCompensatedGenerator;

namespace Qtaml.Generators.Tests.Support;

/// <summary>Runs the generator the way the compiler does, and compiles and loads what it produced.</summary>
internal static class GeneratorHarness
{
    /// <summary>What a consumer project compiles against: this runtime's System assemblies (no reference pack to download) and Qtaml.Runtime, as qtaml compiles them.</summary>
    public static IReadOnlyList<MetadataReference> ConsumerReferences => Qtaml.Tool.Build.InProcessBuild.ConsumerReferences;

    public static CSharpCompilation CreateCompilation(params string[] sources) =>
        CSharpCompilation.Create("Consumer",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, new CSharpParseOptions(LanguageVersion.Latest), path: $"Source{i}.cs")),
            ConsumerReferences,
            // Release, as a consumer's build compiles it: a Debug assembly asks the JIT not to optimize its methods,
            // and the generated kernels then run many times slower than they ship.
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable,
                generalDiagnosticOption: ReportDiagnostic.Error, deterministic: true, optimizationLevel: OptimizationLevel.Release));

    /// <summary>A weight file as the package's MSBuild step writes it into obj/.</summary>
    public static AdditionalText WeightFile(string path, byte[] bytes) => EncodedWeightFile("obj/qtaml/" + path.Replace('/', '_') + ".qtaml.b64", path, bytes);

    /// <summary>
    /// The generated implementation class of the model type <paramref name="typeName"/> in a compiled assembly: a file-local
    /// class in Qtaml.Generated (its metadata name is mangled by the compiler, ending in <c>__{typeName}Implementation</c>).
    /// </summary>
    public static Type Implementation(System.Reflection.Assembly assembly, string typeName) =>
        assembly.GetTypes().Single(t => t.Namespace == "Qtaml.Generated" && !t.IsNested && t.Name.EndsWith("__" + typeName + "Implementation", StringComparison.Ordinal));

    /// <summary>An encoded weight file's text exactly as given (what the build step wrote).</summary>
    public static AdditionalText EncodedText(string encodedPath, string text) => new InMemoryText(encodedPath, text);

    /// <summary>An encoded weight file at <paramref name="encodedPath"/> whose header names <paramref name="projectPath"/>.</summary>
    public static AdditionalText EncodedWeightFile(string encodedPath, string projectPath, byte[] bytes) =>
        new InMemoryText(encodedPath, QtamlGenerator.WeightFileHeader + projectPath + "\n" + Convert.ToBase64String(bytes) + "\n");

    /// <summary>A weight file with MSBuild item metadata (QtamlInputShape, say), as the package's targets pass it to the compiler.</summary>
    public static AdditionalText WeightFile(string path, byte[] bytes, IReadOnlyDictionary<string, string> metadata)
    {
        var text = (InMemoryText)WeightFile(path, bytes);
        text.Metadata = metadata;
        return text;
    }

    public static GeneratorDriver CreateDriver(IEnumerable<AdditionalText> files, IReadOnlyDictionary<string, string>? buildProperties = null) =>
        CSharpGeneratorDriver.Create(new[] { new QtamlGenerator().AsSourceGenerator() }, files,
            new CSharpParseOptions(LanguageVersion.Latest), new OptionsProvider(buildProperties ?? new Dictionary<string, string>()),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public sealed record Result(GeneratorDriver Driver, Compilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics, GeneratorDriverRunResult Run)
    {
        public string Source => Run.Results.Single().GeneratedSources.Single().SourceText.ToString();
    }

    public static Result Run(string source, IEnumerable<AdditionalText> files, IReadOnlyDictionary<string, string>? buildProperties = null)
    {
        GeneratorDriver driver = CreateDriver(files, buildProperties);
        driver = driver.RunGeneratorsAndUpdateCompilation(CreateCompilation(source), out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        return new Result(driver, output, diagnostics, driver.GetRunResult());
    }

    /// <summary>Compiles the output with nullable on and every warning an error, asserts it is clean, and loads it.</summary>
    public static Assembly CompileAndLoad(Compilation compilation)
    {
        using var stream = new MemoryStream();
        var emitted = compilation.Emit(stream);
        var problems = emitted.Diagnostics.Concat(compilation.GetDiagnostics()).Where(d => d.Severity >= DiagnosticSeverity.Warning).Distinct().ToArray();
        Assert.True(emitted.Success && problems.Length == 0, "Generated code does not compile cleanly:\n" + string.Join("\n", problems.Select(p => p.ToString())));
        stream.Position = 0;
        return new AssemblyLoadContext("generated-" + Guid.NewGuid(), isCollectible: true).LoadFromStream(stream);
    }

    private sealed class InMemoryText : AdditionalText
    {
        private readonly SourceText _text;

        public InMemoryText(string path, string text)
        {
            Path = path;
            _text = SourceText.From(text);
        }

        public override string Path { get; }

        /// <summary>The item's MSBuild metadata, by name.</summary>
        public IReadOnlyDictionary<string, string> Metadata { get; set; } = new Dictionary<string, string>();

        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
    }

    private sealed class OptionsProvider : AnalyzerConfigOptionsProvider
    {
        private readonly Options _global;

        public OptionsProvider(IReadOnlyDictionary<string, string> buildProperties) =>
            _global = new Options(buildProperties.ToDictionary(p => "build_property." + p.Key, p => p.Value));

        public override AnalyzerConfigOptions GlobalOptions => _global;

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => textFile is InMemoryText { Metadata.Count: > 0 } text
            ? new Options(text.Metadata.ToDictionary(m => "build_metadata.AdditionalFiles." + m.Key, m => m.Value))
            : Options.Empty;

        private sealed class Options : AnalyzerConfigOptions
        {
            public static readonly Options Empty = new(new Dictionary<string, string>());
            private readonly Dictionary<string, string> _values;

            public Options(Dictionary<string, string> values) => _values = values;

            public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => _values.TryGetValue(key, out value);
        }
    }
}
