extern alias gen;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Generator = gen::Qtaml.Generators.TunnelingCompensatedGenerator;

namespace Qtaml.Benchmarks;

/// <summary>
/// A consumer's build in process, as the build-cost benchmarks measure it: parse a source, run the Qtaml generator
/// over encoded weight files, compile and emit to memory (Release).
/// </summary>
internal static class InProcessBuild
{
    private static readonly Lazy<MetadataReference[]> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Append(typeof(ICompiledModel).Assembly.Location)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray());

    /// <summary>What a consumer compiles against: this runtime's System assemblies and Qtaml.Runtime.</summary>
    public static IReadOnlyList<MetadataReference> ConsumerReferences => References.Value;

    /// <summary>A weight file as the package's MSBuild step writes it: a header naming <paramref name="projectPath"/>, then base64.</summary>
    public static AdditionalText WeightFile(string projectPath, byte[] bytes) =>
        new Text("obj/qtaml/" + projectPath.Replace('/', '_') + ".qtaml.b64", Generator.WeightFileHeader + projectPath + "\n" + Convert.ToBase64String(bytes) + "\n");

    /// <summary>Generates and compiles; returns the assembly's size. Any error (from the generator or the compiler) throws.</summary>
    public static int Compile(string source, AdditionalText[] files)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create("App", new[] { CSharpSyntaxTree.ParseText(source, parse) }, References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new Generator().AsSourceGenerator() }, files, parse);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        if (diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error)) throw new InvalidOperationException(string.Join("\n", diagnostics));
        using var stream = new MemoryStream();
        var result = output.Emit(stream);
        if (!result.Success) throw new InvalidOperationException(string.Join("\n", result.Diagnostics.Take(5)));
        return (int)stream.Length;
    }

    private sealed class Text(string path, string text) : AdditionalText
    {
        private readonly SourceText _text = SourceText.From(text);
        public override string Path { get; } = path;
        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
    }
}
