using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Qtaml.Faults;

namespace Qtaml.Benchmarks;

/// <summary>
/// Batch-1 latency of six models (the sample MLP, CNN and encoder, a 96-channel CNN, a depthwise-separable CNN and
/// a residual CNN): ONNX Runtime's C# API on the same ONNX file (session created once, input and output OrtValues
/// bound to reused buffers), the generated 8-bit code over baked weights and over a weight image (the fault path),
/// and the generated unquantized float build, which runs the same vector kernels over float weights.
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
    /// <summary>How a model runs: its ONNX file, input shape and multiply-accumulates, and its generated classes' entry points.</summary>
    internal sealed record Case(string File, long[] InputShape, long Macs, Run Baked, RunImage Image, Func<WeightImage> CreateImage, Run Float);

    /// <summary>A generated Run method (a delegate call costs nanoseconds against inferences of microseconds).</summary>
    internal delegate void Run(ReadOnlySpan<float> input, Span<float> output);

    internal delegate void RunImage(WeightImage weights, ReadOnlySpan<float> input, Span<float> output);

    internal static readonly Dictionary<string, Case> Cases = new()
    {
        ["mlp"] = new("sample-app/Models/digits-mlp.onnx", new long[] { 1, 784 }, 784L * 128 + 128 * 64 + 64 * 10,
            MlpTac100.Run, MlpTac100.Run, MlpTac100.CreateWeightImage, MlpFloat.Run),
        ["cnn"] = new("sample-app/Models/digits-cnn.onnx", new long[] { 1, 1, 28, 28 }, 6L * 28 * 28 * 25 + 16L * 10 * 10 * 150 + 400 * 120 + 120 * 84 + 84 * 10,
            CnnTac100.Run, CnnTac100.Run, CnnTac100.CreateWeightImage, CnnFloat.Run),
        // 28 tokens: token embedding, Q/K/V/output projections, scores and mixing over 4 heads of 12, feed-forward, classifier.
        ["transformer"] = new("sample-app/Models/digits-transformer.onnx", new long[] { 1, 28, 28 }, 28L * 28 * 48 + 4L * 28 * 48 * 48 + 2L * 4 * 28 * 28 * 12 + 2L * 28 * 48 * 96 + 48 * 10,
            TransformerTac100.Run, TransformerTac100.Run, TransformerTac100.CreateWeightImage, TransformerFloat.Run),
        ["wide-cnn"] = new("benchmarks/Qtaml.Benchmarks/Models/wide-cnn.onnx", new long[] { 1, 1, 28, 28 },
            28L * 28 * 32 * 9 + 14L * 14 * 96 * 32 * 9 + 14L * 14 * 96 * 96 * 9 + 7L * 7 * 96 * 96 * 9 + 4704 * 10,
            WideCnnTac100.Run, WideCnnTac100.Run, WideCnnTac100.CreateWeightImage, WideCnnFloat.Run),
        ["separable-cnn"] = new("benchmarks/Qtaml.Benchmarks/Models/separable-cnn.onnx", new long[] { 1, 1, 28, 28 },
            14L * 14 * 16 * 9 + 14L * 14 * 16 * 9 + 14L * 14 * 16 * 32 + 7L * 7 * 32 * 9 + 7L * 7 * 32 * 64 + 7L * 7 * 64 * 9 + 7L * 7 * 64 * 128 + 128 * 10,
            SeparableCnnTac100.Run, SeparableCnnTac100.Run, SeparableCnnTac100.CreateWeightImage, SeparableCnnFloat.Run),
        ["residual-cnn"] = new("benchmarks/Qtaml.Benchmarks/Models/residual-cnn.onnx", new long[] { 1, 1, 28, 28 },
            28L * 28 * 32 * 9 + 4 * 14L * 14 * 32 * 32 * 9 + 1568 * 10,
            ResidualCnnTac100.Run, ResidualCnnTac100.Run, ResidualCnnTac100.CreateWeightImage, ResidualCnnFloat.Run),
    };

    /// <summary>Multiply-accumulates per inference, from the layer shapes.</summary>
    public static IReadOnlyDictionary<string, long> MacsPerInference { get; } = Cases.ToDictionary(c => c.Key, c => c.Value.Macs);

    private float[] _input = null!, _output = null!;
    private WeightImage _image = null!;
    private OnnxRuntimeBaseline _onnxRuntime = null!;
    private Case _case = null!;

    [Params("mlp", "cnn", "transformer", "wide-cnn", "separable-cnn", "residual-cnn")]
    public string Model { get; set; } = "cnn";

    [GlobalSetup]
    public void Setup()
    {
        _case = Cases[Model];
        var random = new Random(1);
        _input = Enumerable.Range(0, 784).Select(_ => (float)random.NextDouble()).ToArray();
        _output = new float[10];
        _image = _case.CreateImage();
        _onnxRuntime = new OnnxRuntimeBaseline(Path.Combine(Repository(), _case.File), _input, _case.InputShape, _output, new long[] { 1, 10 });
    }

    [GlobalCleanup]
    public void Cleanup() => _onnxRuntime.Dispose();

    [Benchmark(Baseline = true, Description = "ONNX Runtime")]
    public void OnnxRuntime() => _onnxRuntime.Run();

    [Benchmark(Description = "generated 8-bit, baked weights")]
    public void GeneratedBaked() => _case.Baked(_input, _output);

    [Benchmark(Description = "generated 8-bit, weight image")]
    public void GeneratedImage() => _case.Image(_image, _input, _output);

    [Benchmark(Description = "generated float (unquantized)")]
    public void FloatCSharp() => _case.Float(_input, _output);

    internal static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Qtaml.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Run the benchmarks from inside the repository.");
    }
}
