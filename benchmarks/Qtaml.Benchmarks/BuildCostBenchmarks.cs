extern alias gen;
using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Tools;
using Generator = gen::Qtaml.Generators.TunnelingCompensatedGenerator;

namespace Qtaml.Benchmarks;

/// <summary>
/// What a 1,000,000-parameter model adds to a consumer's build: the generator and the compiler together, in
/// process, against the same compilation without the model. Both compile a small program and emit it to
/// memory; the model case also runs the generator on a 1000 x 1000 Gemm (plus bias) and compiles its output.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class BuildCostBenchmarks
{
    private const string Consumer = """
        namespace App
        {
            public static class Program { public static int Main() => 0; }
            MODEL
        }
        """;

    private const string Attribute = """[global::Qtaml.TunnelingCompensated("Models/big.onnx", Node = "2nm", EccBudget = 1.0)] public static partial class Big { }""";

    private MetadataReference[] _references = null!;
    private AdditionalText _weights = null!;

    [GlobalSetup]
    public void Setup()
    {
        _references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Append(typeof(ICompiledModel).Assembly.Location)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
        _weights = new Text("obj/qtaml/Models_big.onnx.qtaml.b64", Generator.WeightFileHeader + "Models/big.onnx\n" + Convert.ToBase64String(MillionParameterModel()) + "\n");
    }

    [Benchmark(Baseline = true, Description = "compile, no model")]
    public int WithoutModel() => Compile(Consumer.Replace("MODEL", ""), Array.Empty<AdditionalText>());

    [Benchmark(Description = "generate + compile, 1M-parameter model")]
    public int WithModel() => Compile(Consumer.Replace("MODEL", Attribute), new[] { _weights });

    private int Compile(string source, AdditionalText[] files)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create("App", new[] { CSharpSyntaxTree.ParseText(source, parse) }, _references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new Generator().AsSourceGenerator() }, files, parse);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> _);
        using var stream = new MemoryStream();
        var result = output.Emit(stream);
        if (!result.Success) throw new InvalidOperationException(string.Join("\n", result.Diagnostics));
        return (int)stream.Length;
    }

    private static byte[] MillionParameterModel()
    {
        var random = new Random(1);
        float[] w = Enumerable.Range(0, 1000 * 1000).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var graph = new GraphProto { Name = "big" };
        graph.Input.Add(OnnxProto.Value("input", new long?[] { 1, 1000 }));
        graph.Output.Add(OnnxProto.Value("output", new long?[] { 1, 1000 }));
        var node = new NodeProto { OpType = "Gemm", Name = "fc" };
        node.Input.Add(new[] { "input", OnnxProto.Tensor(graph, "w", new long[] { 1000, 1000 }, w), OnnxProto.Tensor(graph, "b", new long[] { 1000 }, new float[1000]) });
        node.Output.Add("output");
        graph.Node.Add(node);
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
        public Config() => AddJob(Job.Default.WithWarmupCount(2).WithIterationCount(8).WithInvocationCount(1).WithUnrollFactor(1));
    }
}
