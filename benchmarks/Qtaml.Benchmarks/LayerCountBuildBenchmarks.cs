extern alias gen;
using System.Collections.Immutable;
using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Tools;
using Generator = gen::Qtaml.Generators.TunnelingCompensatedGenerator;

namespace Qtaml.Benchmarks;

/// <summary>
/// Generator plus compiler against the number of layers: a chain of N small Gemm layers (8 x 8, 64 weights each;
/// 4,000 layers are 256k weights in a 2 MB file), compiled for 2nm at 1 bit/weight and emitted to memory, as a
/// consumer's build does. The goal (issue 12): time and memory grow about linearly; 4,000 layers under 10 s and 1 GB.
/// Each case runs in its own process, whose peak working set is printed at the end ("peak working set").
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class LayerCountBuildBenchmarks
{
    private MetadataReference[] _references = null!;
    private AdditionalText _weights = null!;

    [Params(250, 500, 1000, 2000, 4000)]
    public int Layers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Append(typeof(ICompiledModel).Assembly.Location)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
        _weights = new Text("obj/qtaml/Models_chain.onnx.qtaml.b64", Generator.WeightFileHeader + "Models/chain.onnx\n" + Convert.ToBase64String(Chain(Layers)) + "\n");
    }

    [GlobalCleanup]
    public void Cleanup() => Console.WriteLine($"// {Layers} layers: peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024)} MiB");

    [Benchmark(Description = "generate + compile a chain of N Gemm layers")]
    public int GenerateAndCompile()
    {
        const string Source = """namespace App { [global::Qtaml.TunnelingCompensated("Models/chain.onnx", Node = "2nm", EccBudget = 1.0)] public static partial class Chain { } }""";
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create("App", new[] { CSharpSyntaxTree.ParseText(Source, parse) }, _references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new Generator().AsSourceGenerator() }, new[] { _weights }, parse);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        if (diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error)) throw new InvalidOperationException(string.Join("\n", diagnostics));
        using var stream = new MemoryStream();
        var result = output.Emit(stream);
        if (!result.Success) throw new InvalidOperationException(string.Join("\n", result.Diagnostics.Take(5)));
        return (int)stream.Length;
    }

    /// <summary>The ONNX file of N chained 8 x 8 Gemm layers with seeded weights.</summary>
    internal static byte[] Chain(int layers)
    {
        var random = new Random(1);
        var graph = new GraphProto { Name = "chain" };
        graph.Input.Add(OnnxProto.Value("input", new long?[] { 1, 8 }));
        string current = "input";
        for (int i = 0; i < layers; i++)
        {
            float[] w = Enumerable.Range(0, 64).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            var node = new NodeProto { OpType = "Gemm", Name = "fc" + i };
            node.Input.Add(new[] { current, OnnxProto.Tensor(graph, "w" + i, new long[] { 8, 8 }, w), OnnxProto.Tensor(graph, "b" + i, new long[] { 8 }, new float[8]) });
            node.Attribute.Add(OnnxProto.Int("transB", 1));
            current = "y" + i;
            node.Output.Add(current);
            graph.Node.Add(node);
        }
        graph.Output.Add(OnnxProto.Value(current, new long?[] { 1, 8 }));
        return OnnxProto.Model(graph, "qtaml-benchmarks");
    }

    private sealed class Text(string path, string text) : AdditionalText
    {
        private readonly SourceText _text = SourceText.From(text);
        public override string Path { get; } = path;
        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithWarmupCount(1).WithIterationCount(3).WithInvocationCount(1).WithUnrollFactor(1));
    }
}
