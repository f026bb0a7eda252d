using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains;
using BenchmarkDotNet.Toolchains.NativeAot;

namespace Qtaml.Benchmarks;

/// <summary>
/// The first inferences of a fresh process, the ones an app's user waits for (a wake word, a first OCR line): each
/// launch is a new process that runs the first call (or the first thirty, tiered compilation's window before it
/// re-JITs a method with full optimization) and nothing else. The generated class's first call includes its own
/// initialization (decoding the baked data) and its kernels' JIT; ONNX Runtime's session is created in the setup,
/// as an app creates it at start, so its first Run is measured alone.
/// </summary>
[Config(typeof(ColdConfig))]
public class FirstCallBenchmarks
{
    private sealed class ColdConfig : ManualConfig
    {
        public ColdConfig()
        {
            Job cold = Job.Default.WithStrategy(RunStrategy.ColdStart).WithLaunchCount(5).WithWarmupCount(0).WithIterationCount(1).WithInvocationCount(1).WithUnrollFactor(1);
            AddJob(cold.WithId("JIT-cold"));
            // Compiled ahead of time there is no JIT at the first call: what is left is the class's own initialization.
            IToolchain nativeAot = NativeAotToolchain.CreateBuilder()
                .UseNuGet(Environment.Version.ToString(), ConfiguredPackageSource.First())
                .IlcInstructionSet("x86-64-v2")
                .TargetFrameworkMoniker("net10.0")
                .ToToolchain();
            AddJob(cold.WithToolchain(nativeAot).WithId("NativeAOT-v2-cold"));
        }
    }

    private float[] _input = null!, _output = null!;
    private OnnxRuntimeBaseline _onnxRuntime = null!;
    private InferenceCases.Case _case = null!;

    [Params("mlp", "cnn", "transformer", "wide-cnn", "separable-cnn", "residual-cnn")]
    public string Model { get; set; } = "cnn";

    /// <summary>The first call, or the first thirty.</summary>
    [Params(1, 30)]
    public int Calls { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        _case = InferenceCases.Cases[Model];
        var random = new Random(1);
        _input = Enumerable.Range(0, 784).Select(_ => (float)random.NextDouble()).ToArray();
        _output = new float[10];
        _onnxRuntime = new OnnxRuntimeBaseline(Path.Combine(InferenceCases.Repository(), _case.File), _input, _case.InputShape, _output, new long[] { 1, 10 });
    }

    [GlobalCleanup]
    public void Cleanup() => _onnxRuntime.Dispose();

    [Benchmark(Baseline = true, Description = "ONNX Runtime")]
    public void OnnxRuntime()
    {
        for (int i = 0; i < Calls; i++) _onnxRuntime.Run();
    }

    [Benchmark(Description = "generated 8-bit, baked weights")]
    public void GeneratedBaked()
    {
        for (int i = 0; i < Calls; i++) _case.Baked(_input, _output);
    }

    [Benchmark(Description = "generated float (unquantized)")]
    public void FloatCSharp()
    {
        for (int i = 0; i < Calls; i++) _case.Float(_input, _output);
    }
}
