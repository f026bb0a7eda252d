using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Qtaml.Faults;

namespace Qtaml.Benchmarks;

/// <summary>
/// The sample CNN's largest layer alone (conv2 + ReLU, 240,000 multiply-accumulates): the generated code over
/// baked weights and over a weight image, ONNX Runtime on the same one-layer ONNX file, and the unquantized
/// float build. Measures how close the convolution kernel comes to the core's peak without the rest of the
/// network around it.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class LargestLayerBenchmarks
{
    /// <summary>Multiply-accumulates of one call: 16 output channels x 10 x 10 positions x (6 channels x 5 x 5 taps).</summary>
    public const long Macs = 16L * 10 * 10 * 6 * 5 * 5;

    private float[] _input = null!, _output = null!;
    private WeightImage _image = null!;
    private OnnxRuntimeBaseline _onnxRuntime = null!;

    [GlobalSetup]
    public void Setup()
    {
        // What conv2 sees in the CNN: pooled ReLU outputs, non-negative.
        var random = new Random(1);
        _input = Enumerable.Range(0, Conv2Tac100.InputLength).Select(_ => (float)random.NextDouble()).ToArray();
        _output = new float[Conv2Tac100.OutputLength];
        _image = Conv2Tac100.CreateWeightImage();
        string path = Path.Combine(InferenceCases.Repository(), "benchmarks", "Qtaml.Benchmarks", "Models", "cnn-conv2.onnx");
        _onnxRuntime = new OnnxRuntimeBaseline(path, _input, new long[] { 1, 6, 14, 14 }, _output, new long[] { 1, 16, 10, 10 });
    }

    [GlobalCleanup]
    public void Cleanup() => _onnxRuntime.Dispose();

    [Benchmark(Baseline = true, Description = "ONNX Runtime")]
    public void OnnxRuntime() => _onnxRuntime.Run();

    [Benchmark(Description = "generated, baked weights")]
    public void GeneratedBaked() => Conv2Tac100.Run(_input, _output);

    [Benchmark(Description = "generated, weight image")]
    public void GeneratedImage() => Conv2Tac100.Run(_image, _input, _output);

    [Benchmark(Description = "float C# (generated, unquantized)")]
    public void FloatCSharp() => Conv2Float.Run(_input, _output);

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10));
    }
}
