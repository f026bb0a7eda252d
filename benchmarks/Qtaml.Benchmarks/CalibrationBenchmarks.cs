extern alias gen;
using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using CalibrationProfile = gen::Qtaml.Generators.Calibration.CalibrationProfile;
using InputPins = gen::Qtaml.Generators.Model.InputPins;
using NetworkGraph = gen::Qtaml.Generators.Network.NetworkGraph;
using NpyArray = gen::Qtaml.Generators.Calibration.NpyArray;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;
using WeightLayer = gen::Qtaml.Generators.Network.WeightLayer;

namespace Qtaml.Benchmarks;

/// <summary>
/// The build's calibration stage (issue 24): <c>CalibrationProfile.Measure</c> on 256 seeded uniform inputs, the
/// reverse-mode profile a calibrated build computes once per model and calibration file (a build caches it, so it is
/// timed here directly). Models: the sample CNN; where their folders are given, the third-party models of
/// <c>tools/third-party</c> (<c>QTAML_THIRD_PARTY</c>, from fetch.sh: the 54-layer PP-OCR direction classifier and the
/// 2.7M-parameter PP-OCRv4 recogniser) and SqueezeNet from <c>../shared/conformance/onnx-light</c>
/// (<c>QTAML_ONNX_LIGHT</c>, from make-weights.sh). The inputs whose decisions and whose gradients were used, of 256, are printed per model.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class CalibrationBenchmarks
{
    private NetworkGraph _graph = null!;
    private NpyArray _inputs = null!;

    /// <summary>The models whose files are here, by name.</summary>
    public static IEnumerable<string> Models()
    {
        yield return "sample-cnn";
        foreach ((string name, _, _) in ThirdParty().Where(m => File.Exists(m.Path))) yield return name;
    }

    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        (string path, string pins) = Model == "sample-cnn"
            ? (Path.Combine(RepositoryRoot(), "sample-app", "Models", "digits-cnn.onnx"), "")
            : ThirdParty().Where(m => m.Name == Model).Select(m => (m.Path, m.Pins)).First();
        _graph = OnnxReader.Read(Path.GetFileName(path), File.ReadAllBytes(path), InputPins.Parse(pins.Length > 0 ? pins : null, null));
        var random = new Random(24);
        const int rows = CalibrationProfile.MaxSamples;
        var values = new float[rows * _graph.InputLength];
        for (int i = 0; i < values.Length; i++) values[i] = (float)random.NextDouble();
        _inputs = new NpyArray(new[] { rows, _graph.InputLength }, values);
    }

    [Benchmark(Description = "calibration profile, 256 inputs offered")]
    public int Calibrate() => CalibrationProfile.Measure(_graph, _inputs, CancellationToken.None).Samples;

    [GlobalCleanup]
    public void Cleanup()
    {
        long weights = _graph.Layers.OfType<WeightLayer>().Sum(l => (long)l.Weights.Length);
        CalibrationProfile profile = CalibrationProfile.Measure(_graph, _inputs, CancellationToken.None);
        Console.WriteLine($"// {Model}: {weights:N0} weights, {_graph.Layers.Length} layers, {CalibrationProfile.PassCost(_graph):N0} multiply-adds a pass, decisions of {profile.Samples} of 256 inputs, gradients of {profile.Swept}; peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024)} MiB");
    }

    private static IEnumerable<(string Name, string Path, string Pins)> ThirdParty()
    {
        string? thirdParty = Environment.GetEnvironmentVariable("QTAML_THIRD_PARTY"), light = Environment.GetEnvironmentVariable("QTAML_ONNX_LIGHT");
        if (thirdParty is not null)
        {
            yield return ("ppocr-cls", Path.Combine(thirdParty, "ppocr-cls.onnx"), "x=1,3,48,192");
            yield return ("ppocr-v4-rec", Path.Combine(thirdParty, "ppocr-v4-rec.onnx"), "x=1,3,48,320");
        }
        if (light is not null) yield return ("squeezenet", Path.Combine(light, "squeezenet.onnx"), "");
    }

    private static string RepositoryRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
            if (File.Exists(Path.Combine(dir, "Qtaml.sln"))) return dir;
        throw new InvalidOperationException("Run from inside the repository.");
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithWarmupCount(1).WithIterationCount(3).WithInvocationCount(1).WithUnrollFactor(1));
    }
}
