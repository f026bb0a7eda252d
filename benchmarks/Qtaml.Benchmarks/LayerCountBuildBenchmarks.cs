using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Microsoft.CodeAnalysis;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Tools;

namespace Qtaml.Benchmarks;

/// <summary>
/// Generator plus compiler against the number of layers: a chain of N small Gemm layers (8 x 8, 64 weights each;
/// 4,000 layers are 256k weights in a 2 MB file), compiled for 2nm at 1 bit/weight and emitted to memory, as a
/// consumer's build does. The goal (issue 12): time and memory grow about linearly; 4,000 layers under 10 s and 1 GB;
/// issue 25: a 10,000-node chain under 30 s in all.
/// Each case runs in its own process, whose peak working set is printed at the end ("peak working set").
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class LayerCountBuildBenchmarks
{
    private AdditionalText _weights = null!;

    [Params(250, 500, 1000, 2000, 4000, 10000)]
    public int Layers { get; set; }

    [GlobalSetup]
    public void Setup() => _weights = InProcessBuild.WeightFile("Models/chain.onnx", Chain(Layers));

    [GlobalCleanup]
    public void Cleanup() => Console.WriteLine($"// {Layers} layers: peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024)} MiB");

    [Benchmark(Description = "generate + compile a chain of N Gemm layers")]
    public int GenerateAndCompile() =>
        InProcessBuild.Compile("""namespace App { [global::Qtaml.TunnelingCompensated("Models/chain.onnx", Node = "2nm", EccBudget = 1.0)] public static partial class Chain { } }""", new[] { _weights });

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

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithWarmupCount(1).WithIterationCount(3).WithInvocationCount(1).WithUnrollFactor(1));
    }
}
