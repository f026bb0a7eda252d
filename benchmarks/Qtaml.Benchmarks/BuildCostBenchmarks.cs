using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Microsoft.CodeAnalysis;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Tools;

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

    private AdditionalText _weights = null!;

    [GlobalSetup]
    public void Setup() => _weights = InProcessBuild.WeightFile("Models/big.onnx", MillionParameterModel());

    [Benchmark(Baseline = true, Description = "compile, no model")]
    public int WithoutModel() => InProcessBuild.Compile(Consumer.Replace("MODEL", ""), Array.Empty<AdditionalText>());

    [Benchmark(Description = "generate + compile, 1M-parameter model")]
    public int WithModel() => InProcessBuild.Compile(Consumer.Replace("MODEL", Attribute), new[] { _weights });

    /// <summary>One 1000 x 1000 Gemm with a zero bias, seeded uniform weights in [-0.5, 0.5).</summary>
    internal static byte[] MillionParameterModel()
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

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithWarmupCount(2).WithIterationCount(8).WithInvocationCount(1).WithUnrollFactor(1));
    }
}
