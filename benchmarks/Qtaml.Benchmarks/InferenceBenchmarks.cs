using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Qtaml.Faults;
using Qtaml.Sample.Models;

namespace Qtaml.Benchmarks;

/// <summary>
/// Batch-1 latency of the sample models: the generated code over baked weights, the same code over a weight
/// image (the fault path), ONNX Runtime's C# API on the same ONNX file (session created once, input and output
/// OrtValues bound to reused buffers) and the generator's unquantized float build (a straightforward float C#
/// implementation with constant shapes).
/// </summary>
[Config(typeof(Config))]
public class InferenceBenchmarks : InferenceCases
{
    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10));
    }
}

/// <summary>The cases every inference benchmark runs; each derived class says in which configurations.</summary>
[MemoryDiagnoser]
public abstract class InferenceCases
{
    /// <summary>Multiply-accumulates per inference, from the layer shapes.</summary>
    public static readonly Dictionary<string, long> MacsPerInference = new()
    {
        ["cnn"] = 6L * 28 * 28 * 25 + 16L * 10 * 10 * 150 + 400 * 120 + 120 * 84 + 84 * 10,
        ["mlp"] = 784L * 128 + 128 * 64 + 64 * 10,
        // 28 tokens: token embedding, Q/K/V/output projections, scores and mixing over 4 heads of 12, feed-forward, classifier.
        ["transformer"] = 28L * 28 * 48 + 4L * 28 * 48 * 48 + 2L * 4 * 28 * 28 * 12 + 2L * 28 * 48 * 96 + 48 * 10,
    };

    private float[] _input = null!, _output = null!;
    private WeightImage _image = null!;
    private OnnxRuntimeBaseline _onnxRuntime = null!;

    [Params("mlp", "cnn", "transformer")]
    public string Model { get; set; } = "cnn";

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _input = Enumerable.Range(0, 784).Select(_ => (float)random.NextDouble()).ToArray();
        _output = new float[10];
        _image = Model switch { "cnn" => CnnTac100.CreateWeightImage(), "transformer" => TransformerTac100.CreateWeightImage(), _ => MlpTac100.CreateWeightImage() };
        string path = Path.Combine(Repository(), "sample-app", "Models", $"digits-{Model}.onnx");
        long[] inputShape = Model switch { "cnn" => new long[] { 1, 1, 28, 28 }, "transformer" => new long[] { 1, 28, 28 }, _ => new long[] { 1, 784 } };
        _onnxRuntime = new OnnxRuntimeBaseline(path, _input, inputShape, _output, new long[] { 1, 10 });
    }

    [GlobalCleanup]
    public void Cleanup() => _onnxRuntime.Dispose();

    [Benchmark(Baseline = true, Description = "ONNX Runtime")]
    public void OnnxRuntime() => _onnxRuntime.Run();

    [Benchmark(Description = "generated, baked weights")]
    public void GeneratedBaked()
    {
        if (Model == "cnn") CnnTac100.Run(_input, _output);
        else if (Model == "transformer") TransformerTac100.Run(_input, _output);
        else MlpTac100.Run(_input, _output);
    }

    [Benchmark(Description = "generated, weight image")]
    public void GeneratedImage()
    {
        if (Model == "cnn") CnnTac100.Run(_image, _input, _output);
        else if (Model == "transformer") TransformerTac100.Run(_image, _input, _output);
        else MlpTac100.Run(_image, _input, _output);
    }

    [Benchmark(Description = "float C# (generated, unquantized)")]
    public void FloatCSharp()
    {
        if (Model == "cnn") CnnFloat.Run(_input, _output);
        else if (Model == "transformer") TransformerFloat.Run(_input, _output);
        else MlpFloat.Run(_input, _output);
    }

    internal static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Qtaml.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Run the benchmarks from inside the repository.");
    }
}
