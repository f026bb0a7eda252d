#if QTAML_REAL_MODELS
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.NativeAot;
using Qtaml;
using Qtaml.Threading;

namespace Qtaml.Benchmarks;

// The models edge apps ship, compiled as a user would: the onnx-light ImageNet architectures (seeded weights from
// ../shared/conformance/onnx-light/make-weights.sh) and the single-input third-party models of tools/third-party
// (the two Silero VADs pass their state through several inputs and are left to the named Run). 8-bit at 2nm with
// a budget of 1 protected bit per weight, and unquantized.

[TunnelingCompensated("RealModels/squeezenet.onnx", Node = "2nm", EccBudget = 1.0)] public static partial class SqueezeNet8 { }
[TunnelingCompensated("RealModels/squeezenet.onnx", Quantize = false)] public static partial class SqueezeNetFloat { }
[TunnelingCompensated("RealModels/shufflenet.onnx", Node = "2nm", EccBudget = 1.0)] public static partial class ShuffleNet8 { }
[TunnelingCompensated("RealModels/shufflenet.onnx", Quantize = false)] public static partial class ShuffleNetFloat { }
[TunnelingCompensated("RealModels/inception_v1.onnx", Node = "2nm", EccBudget = 1.0)] public static partial class InceptionV18 { }
[TunnelingCompensated("RealModels/inception_v1.onnx", Quantize = false)] public static partial class InceptionV1Float { }
[TunnelingCompensated("RealModels/resnet50.onnx", Node = "2nm", EccBudget = 1.0)] public static partial class ResNet508 { }
[TunnelingCompensated("RealModels/resnet50.onnx", Quantize = false)] public static partial class ResNet50Float { }
[TunnelingCompensated("RealModels/ppocr-cls.onnx", Node = "2nm", EccBudget = 1.0, InputShape = "x=1,3,48,192")] public static partial class OcrClassifier8 { }
[TunnelingCompensated("RealModels/ppocr-cls.onnx", Quantize = false, InputShape = "x=1,3,48,192")] public static partial class OcrClassifierFloat { }
[TunnelingCompensated("RealModels/ppocr-v4-det.onnx", Node = "2nm", EccBudget = 1.0, InputShape = "x=1,3,160,160")] public static partial class OcrDetector8 { }
[TunnelingCompensated("RealModels/ppocr-v4-det.onnx", Quantize = false, InputShape = "x=1,3,160,160")] public static partial class OcrDetectorFloat { }
[TunnelingCompensated("RealModels/ppocr-v4-rec.onnx", Node = "2nm", EccBudget = 1.0, InputShape = "x=1,3,48,320")] public static partial class OcrRecognizer8 { }
[TunnelingCompensated("RealModels/ppocr-v4-rec.onnx", Quantize = false, InputShape = "x=1,3,48,320")] public static partial class OcrRecognizerFloat { }
[TunnelingCompensated("RealModels/oww-melspectrogram.onnx", Node = "2nm", EccBudget = 1.0, InputShape = "input=1,1280")] public static partial class MelSpectrogram8 { }
[TunnelingCompensated("RealModels/oww-melspectrogram.onnx", Quantize = false, InputShape = "input=1,1280")] public static partial class MelSpectrogramFloat { }
[TunnelingCompensated("RealModels/oww-embedding.onnx", Node = "2nm", EccBudget = 1.0, InputShape = "input_1=1,76,32,1")] public static partial class SpeechEmbedding8 { }
[TunnelingCompensated("RealModels/oww-embedding.onnx", Quantize = false, InputShape = "input_1=1,76,32,1")] public static partial class SpeechEmbeddingFloat { }
[TunnelingCompensated("RealModels/oww-hey-jarvis.onnx", Node = "2nm", EccBudget = 1.0, InputShape = "x.1=1,16,96")] public static partial class HeyJarvis8 { }
[TunnelingCompensated("RealModels/oww-hey-jarvis.onnx", Quantize = false, InputShape = "x.1=1,16,96")] public static partial class HeyJarvisFloat { }

/// <summary>
/// Batch-1 latency on real models: ONNX Runtime (every graph optimization, buffers bound once) against the generated
/// 8-bit and float builds of the same file, in the same run, on one thread each and on every core (ONNX Runtime with
/// that many intra-op threads, the generated code with a <see cref="WorkerPool"/> of that many).
/// Run with QTAML_ONNX_LIGHT and QTAML_THIRD_PARTY set (docs/benchmarks.md).
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class RealModelBenchmarks
{
    private sealed class Config : ManualConfig
    {
        public Config()
        {
            // QTAML_CONFIGURATIONS picks the runtime configurations, comma-separated: jit (the default), avx512-off,
            // avx2-off (AVX2 and FMA off, as older Atom-class parts), aot (NativeAOT, x86-64-v2), each its own job, so
            // every table is one run. A job's id names its build folder, which MSBuild refuses with spaces or commas in
            // it when the job is built on its own: ids are single words.
            Job measured = Job.Default.WithWarmupCount(3).WithIterationCount(10);
            foreach (string configuration in (Environment.GetEnvironmentVariable("QTAML_CONFIGURATIONS") ?? "jit").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                AddJob(configuration switch
                {
                    "jit" => measured.WithId("JIT"),
                    "avx512-off" => measured.WithEnvironmentVariable("DOTNET_EnableAVX512", "0").WithId("JIT-AVX512-off"),
                    "avx2-off" => measured.WithEnvironmentVariables(new EnvironmentVariable("DOTNET_EnableAVX2", "0"), new EnvironmentVariable("DOTNET_EnableFMA", "0")).WithId("JIT-AVX2-FMA-off"),
                    // NativeAOT at its default instruction set (x86-64-v2), the ILCompiler from this machine's package source.
                    "aot" => measured.WithToolchain(NativeAotToolchain.CreateBuilder()
                        .UseNuGet(Environment.Version.ToString(), ConfiguredPackageSource.First())
                        .IlcInstructionSet("x86-64-v2")
                        .TargetFrameworkMoniker("net10.0")
                        .ToToolchain()).WithId("NativeAOT x86-64-v2"),
                    _ => throw new ArgumentException("QTAML_CONFIGURATIONS: unknown configuration '" + configuration + "' (jit, avx512-off, avx2-off, aot)"),
                });
            // BenchmarkDotNet builds its own copy of this project, which compiles the twenty models again (ResNet-50
            // alone takes a minute or two): the default two-minute build timeout is too short.
            WithBuildTimeout(TimeSpan.FromMinutes(20));
        }
    }

    private delegate void RunOn(ReadOnlySpan<float> input, Span<float> output, WorkerPool workers);

    private sealed record Case(string Folder, string File, long[] InputShape, InferenceCases.Run Eight, InferenceCases.Run Float, RunOn EightOn, RunOn FloatOn);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["squeezenet"] = new("QTAML_ONNX_LIGHT", "squeezenet.onnx", new long[] { 1, 3, 224, 224 }, SqueezeNet8.Run, SqueezeNetFloat.Run, SqueezeNet8.Run, SqueezeNetFloat.Run),
        ["shufflenet"] = new("QTAML_ONNX_LIGHT", "shufflenet.onnx", new long[] { 1, 3, 224, 224 }, ShuffleNet8.Run, ShuffleNetFloat.Run, ShuffleNet8.Run, ShuffleNetFloat.Run),
        ["inception_v1"] = new("QTAML_ONNX_LIGHT", "inception_v1.onnx", new long[] { 1, 3, 224, 224 }, InceptionV18.Run, InceptionV1Float.Run, InceptionV18.Run, InceptionV1Float.Run),
        ["resnet50"] = new("QTAML_ONNX_LIGHT", "resnet50.onnx", new long[] { 1, 3, 224, 224 }, ResNet508.Run, ResNet50Float.Run, ResNet508.Run, ResNet50Float.Run),
        ["ppocr-cls"] = new("QTAML_THIRD_PARTY", "ppocr-cls.onnx", new long[] { 1, 3, 48, 192 }, OcrClassifier8.Run, OcrClassifierFloat.Run, OcrClassifier8.Run, OcrClassifierFloat.Run),
        ["ppocr-v4-det"] = new("QTAML_THIRD_PARTY", "ppocr-v4-det.onnx", new long[] { 1, 3, 160, 160 }, OcrDetector8.Run, OcrDetectorFloat.Run, OcrDetector8.Run, OcrDetectorFloat.Run),
        ["ppocr-v4-rec"] = new("QTAML_THIRD_PARTY", "ppocr-v4-rec.onnx", new long[] { 1, 3, 48, 320 }, OcrRecognizer8.Run, OcrRecognizerFloat.Run, OcrRecognizer8.Run, OcrRecognizerFloat.Run),
        ["oww-melspectrogram"] = new("QTAML_THIRD_PARTY", "oww-melspectrogram.onnx", new long[] { 1, 1280 }, MelSpectrogram8.Run, MelSpectrogramFloat.Run, MelSpectrogram8.Run, MelSpectrogramFloat.Run),
        ["oww-embedding"] = new("QTAML_THIRD_PARTY", "oww-embedding.onnx", new long[] { 1, 76, 32, 1 }, SpeechEmbedding8.Run, SpeechEmbeddingFloat.Run, SpeechEmbedding8.Run, SpeechEmbeddingFloat.Run),
        ["oww-hey-jarvis"] = new("QTAML_THIRD_PARTY", "oww-hey-jarvis.onnx", new long[] { 1, 16, 96 }, HeyJarvis8.Run, HeyJarvisFloat.Run, HeyJarvis8.Run, HeyJarvisFloat.Run),
    };

    private float[] _input = null!, _output = null!;
    private OnnxRuntimeBaseline _onnxRuntime = null!;
    private Case _case = null!;
    private WorkerPool? _workers;

    /// <summary>Every model, or those QTAML_REAL_MODELS_ONLY names (comma-separated: resnet50,ppocr-cls).</summary>
    public static IEnumerable<string> Models
    {
        get
        {
            string[] all = { "squeezenet", "shufflenet", "inception_v1", "resnet50", "ppocr-cls", "ppocr-v4-det", "ppocr-v4-rec", "oww-melspectrogram", "oww-embedding", "oww-hey-jarvis" };
            string[]? only = Environment.GetEnvironmentVariable("QTAML_REAL_MODELS_ONLY")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return only is null ? all : all.Where(only.Contains);
        }
    }

    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = "squeezenet";

    /// <summary>1, and every core of the machine; only 1 with QTAML_THREADS=1 (the instruction-set configurations).</summary>
    public static IEnumerable<int> ThreadCounts => Environment.GetEnvironmentVariable("QTAML_THREADS") == "1" ? new[] { 1 } : new[] { 1, Environment.ProcessorCount }.Distinct();

    [ParamsSource(nameof(ThreadCounts))]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        _case = Cases[Model];
        var random = new Random(1);
        _input = new float[_case.InputShape.Aggregate(1L, (a, b) => a * b)];
        for (int i = 0; i < _input.Length; i++) _input[i] = (float)random.NextDouble();
        string folder = Environment.GetEnvironmentVariable(_case.Folder) ?? throw new InvalidOperationException(_case.Folder + " is not set");
        string path = Path.Combine(folder, _case.File);
        long[] outputShape = OutputShape(path, _input, _case.InputShape);
        _output = new float[outputShape.Aggregate(1L, (a, b) => a * b)];
        _onnxRuntime = new OnnxRuntimeBaseline(path, _input, _case.InputShape, _output, outputShape, Threads);
        _workers = Threads > 1 ? new WorkerPool(Threads) : null;
    }

    /// <summary>The first output's shape at this input shape, from one run of ONNX Runtime (the files leave some dimensions symbolic).</summary>
    private static long[] OutputShape(string path, float[] input, long[] inputShape)
    {
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
        var tensor = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(input, inputShape.Select(d => (int)d).ToArray());
        using var results = session.Run(new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.First(), tensor) });
        return results[0].AsTensor<float>().Dimensions.ToArray().Select(d => (long)d).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _onnxRuntime.Dispose();
        _workers?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "ONNX Runtime")]
    public void OnnxRuntime() => _onnxRuntime.Run();

    [Benchmark(Description = "generated 8-bit 2nm")]
    public void Generated8Bit()
    {
        if (_workers is null) _case.Eight(_input, _output);
        else _case.EightOn(_input, _output, _workers);
    }

    [Benchmark(Description = "generated float")]
    public void GeneratedFloat()
    {
        if (_workers is null) _case.Float(_input, _output);
        else _case.FloatOn(_input, _output, _workers);
    }
}
#endif
