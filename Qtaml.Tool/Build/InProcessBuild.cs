extern alias gen;
using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Qtaml.Plans;
using QtamlGenerator = gen::Qtaml.Generators.TunnelingCompensatedGenerator;

namespace Qtaml.Tool.Build;

/// <summary>A diagnostic of the build, as a user's build would report it (the tool's synthetic source has no useful location).</summary>
internal sealed record BuildDiagnostic(string Id, DiagnosticSeverity Severity, string Message);

/// <summary>
/// The compiled classes: the build a user's attribute makes (<see cref="Shipped"/>, the encoding chosen as a build
/// chooses it), one per encoding forced (<see cref="Forced"/>, for campaigns that design every plan in both), the
/// float reference, and the shipped build's diagnostics.
/// </summary>
internal sealed record BuiltModel(CompiledVariant Shipped, IReadOnlyList<CompiledVariant> Forced, FloatReference Reference, IReadOnlyList<BuildDiagnostic> Diagnostics);

/// <summary>The unquantized build: the reference decisions a campaign without labels keeps.</summary>
internal sealed record FloatReference(int InputLength, int OutputLength, Action<float[], float[]> Run);

/// <summary>Thrown when the build cannot produce a model: the generator's errors, worded for the user.</summary>
internal sealed class BuildFailedException(IReadOnlyList<BuildDiagnostic> diagnostics)
    : Exception("The model did not compile:\n" + string.Join("\n", diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => "  " + d.Id + ": " + d.Message)))
{
    public IReadOnlyList<BuildDiagnostic> Diagnostics { get; } = diagnostics;
}

/// <summary>
/// Runs Qtaml's source generator on a weight file exactly as a build does (the same generator, fed the file the way
/// the package's MSBuild step feeds it), compiles what it emits with Roslyn in Release and loads it: the code a user
/// would ship, in process.
/// </summary>
internal static class InProcessBuild
{
    /// <summary>What generated code compiles against: this runtime's System assemblies (no reference pack to download) and Qtaml.Runtime.</summary>
    public static IReadOnlyList<MetadataReference> ConsumerReferences => References.Value;

    private static readonly Lazy<MetadataReference[]> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Append(typeof(ICompiledModel).Assembly.Location)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToArray());

    /// <param name="forced">Encodings to compile a class in besides the shipped build's (campaigns: both).</param>
    /// <param name="cache">Where compiled builds are kept between runs (<see cref="BuildCache.Default"/>); null to compile every time (<c>--no-cache</c>).</param>
    /// <exception cref="BuildFailedException">The generator or the compiler reported an error.</exception>
    public static BuiltModel Build(BuildRequest request, IReadOnlyList<WeightEncoding> forced, BuildCache? cache)
    {
        WeightEncoding[] encodings = new[] { WeightEncoding.Automatic }.Concat(forced.Where(e => e != WeightEncoding.Automatic)).ToArray();
        string source = request.Source(encodings);
        // The key hashes the model's bytes: only worth it when there is a cache to look in.
        string? key = cache is null ? null : BuildCache.Key(source, request.ModelBytes, request.CalibrationBytes);
        (byte[] Assembly, IReadOnlyList<BuildDiagnostic> Diagnostics)? cached = key is null ? null : cache!.TryLoad(key);
        (byte[] bytes, IReadOnlyList<BuildDiagnostic> diagnostics) = cached ?? Compile(request, source);
        if (key is not null && cached is null) cache!.Store(key, bytes, diagnostics);
        Assembly assembly = new AssemblyLoadContext("qtaml-" + Guid.NewGuid().ToString("N"), isCollectible: true).LoadFromStream(new MemoryStream(bytes));

        Type Class(WeightEncoding? encoding) => assembly.GetType("Qtaml.Tool.Generated." + BuildRequest.ClassName(encoding), throwOnError: true)!;
        return new BuiltModel(Variant(Class(WeightEncoding.Automatic)), encodings.Skip(1).Select(e => Variant(Class(e))).ToList(), Reference(Class(null)), diagnostics);
    }

    /// <summary>Runs the generator on the request's source and compiles what it emits: the assembly's bytes and the shipped build's diagnostics.</summary>
    private static (byte[] Assembly, IReadOnlyList<BuildDiagnostic> Diagnostics) Compile(BuildRequest request, string source)
    {
        var files = new List<AdditionalText> { Encoded(request.ProjectPath, request.ModelBytes) };
        if (request.CalibrationBytes is not null) files.Add(Encoded(BuildRequest.CalibrationProjectPath, request.CalibrationBytes));

        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        // A fixed assembly name: the output is deterministic, so the same inputs give the same bytes (and cache entry).
        CSharpCompilation compilation = CSharpCompilation.Create("Qtaml.Tool.Generated",
            new[] { CSharpSyntaxTree.ParseText(source, parse, path: "Models.cs") }, References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release,
                nullableContextOptions: NullableContextOptions.Enable, deterministic: true));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new QtamlGenerator().AsSourceGenerator() }, files, parse, EmptyOptions.Instance);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);

        // Every class reports the same file's diagnostics; the shipped build's are the ones a user's build prints.
        var diagnostics = generatorDiagnostics.Where(d => Shipped(d)).Select(Describe).ToList();
        if (generatorDiagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
            throw new BuildFailedException(diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error) ? diagnostics : generatorDiagnostics.Select(Describe).ToList());

        using var stream = new MemoryStream();
        var emitted = output.Emit(stream);
        if (!emitted.Success)
            throw new BuildFailedException(diagnostics.Concat(emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(Describe)).ToList());
        return (stream.ToArray(), diagnostics);
    }

    /// <summary>Whether a diagnostic is about the shipped build's attribute (or the file, wherever it is reported).</summary>
    private static bool Shipped(Diagnostic diagnostic)
    {
        if (!diagnostic.Location.IsInSource) return true;
        // One class per line, the shipped build's first (BuildRequest.Source).
        return diagnostic.Location.GetLineSpan().StartLinePosition.Line <= BuildRequest.FirstClassLine;
    }

    private static BuildDiagnostic Describe(Diagnostic d) => new(d.Id, d.Severity, d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A file as the package's MSBuild step hands it to the generator: a header naming its project path, then base64.</summary>
    private static InMemoryText Encoded(string projectPath, byte[] bytes) =>
        new InMemoryText("obj/qtaml/" + projectPath + ".qtaml.b64", QtamlGenerator.WeightFileHeader + projectPath + "\n" + Convert.ToBase64String(bytes) + "\n");

    private static CompiledVariant Variant(Type type) =>
        (CompiledVariant)typeof(CompiledVariant).GetMethod(nameof(CompiledVariant.Of))!.MakeGenericMethod(type).Invoke(null, null)!;

    private static FloatReference Reference(Type type) =>
        (FloatReference)typeof(InProcessBuild).GetMethod(nameof(ReferenceOf), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type).Invoke(null, null)!;

    private static FloatReference ReferenceOf<TModel>() where TModel : ICompiledModel =>
        new(TModel.InputLength, TModel.OutputLength, (input, output) => TModel.Run(input, output));

    private sealed class InMemoryText(string path, string text) : AdditionalText
    {
        private readonly SourceText _text = SourceText.From(text);

        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
    }

    private sealed class EmptyOptions : AnalyzerConfigOptionsProvider
    {
        public static readonly EmptyOptions Instance = new();

        public override AnalyzerConfigOptions GlobalOptions => NoOptions.Instance;

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => NoOptions.Instance;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => NoOptions.Instance;

        private sealed class NoOptions : AnalyzerConfigOptions
        {
            public static readonly NoOptions Instance = new();

            public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
            {
                value = null;
                return false;
            }
        }
    }
}
