extern alias gen;
using System.Collections.Immutable;
using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Generator = gen::Qtaml.Generators.TunnelingCompensatedGenerator;

namespace Qtaml.Benchmarks;

/// <summary>
/// What a real model costs a build (issue 25): the generator alone, and the generator plus Roslyn compiling and
/// emitting what it wrote, in process and cold (one fresh process per case, every iteration a whole build, as a
/// command-line build is). Models: a 1,000,000-weight Gemm; where their folders are given, the 2.7M-parameter,
/// 765-node PP-OCRv4 text recogniser (<c>QTAML_THIRD_PARTY</c>, tools/third-party/fetch.sh) and ResNet-50's 25.5M
/// (<c>QTAML_ONNX_LIGHT</c>, ../shared/conformance/onnx-light/make-weights.sh). Builds: float (Quantize = false) and
/// 8-bit at 2 nm with EccBudget = 1.0, no calibration. Each case's process prints its peak working set and the
/// generated source's size.
/// </summary>
[Config(typeof(Config))]
public class ModelBuildCostBenchmarks
{
    private AdditionalText _weights = null!;
    private string _source = "";

    public static IEnumerable<string> Models()
    {
        yield return "gemm-1M";
        string? thirdParty = Environment.GetEnvironmentVariable("QTAML_THIRD_PARTY"), light = Environment.GetEnvironmentVariable("QTAML_ONNX_LIGHT");
        if (thirdParty is not null && File.Exists(Path.Combine(thirdParty, "ppocr-v4-rec.onnx"))) yield return "ppocr-v4-rec";
        if (light is not null && File.Exists(Path.Combine(light, "resnet50.onnx"))) yield return "resnet50";
    }

    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = "";

    [Params("float", "8-bit 2nm")]
    public string Build { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        (byte[] bytes, string pins) = Model switch
        {
            "ppocr-v4-rec" => (File.ReadAllBytes(Path.Combine(Environment.GetEnvironmentVariable("QTAML_THIRD_PARTY")!, "ppocr-v4-rec.onnx")), "x=1,3,48,320"),
            "resnet50" => (File.ReadAllBytes(Path.Combine(Environment.GetEnvironmentVariable("QTAML_ONNX_LIGHT")!, "resnet50.onnx")), ""),
            _ => (BuildCostBenchmarks.MillionParameterModel(), ""),
        };
        _weights = InProcessBuild.WeightFile("Models/model.onnx", bytes);
        string arguments = (pins.Length > 0 ? ", InputShape = \"" + pins + "\"" : "") + (Build == "float" ? ", Quantize = false" : ", Node = \"2nm\", EccBudget = 1.0");
        _source = "namespace App { [global::Qtaml.TunnelingCompensated(\"Models/model.onnx\"" + arguments + ")] public static partial class Model { } }";
    }

    [Benchmark(Description = "generator")]
    public int Generate()
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create("App", new[] { CSharpSyntaxTree.ParseText(_source, parse) }, InProcessBuild.ConsumerReferences,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(new[] { new Generator().AsSourceGenerator() }, new[] { _weights }, parse);
        driver = driver.RunGenerators(compilation);
        GeneratorRunResult result = driver.GetRunResult().Results.Single();
        if (result.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error)) throw new InvalidOperationException(string.Join("\n", result.Diagnostics));
        int length = result.GeneratedSources.Single().SourceText.Length;
        s_sourceLength = length;
        return length;
    }

    [Benchmark(Description = "generator + Roslyn")]
    public int GenerateAndCompile() => InProcessBuild.Compile(_source, new[] { _weights });

    private static int s_sourceLength;

    [GlobalCleanup]
    public void Cleanup() =>
        Console.WriteLine($"// {Model}, {Build}: peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024)} MiB" + (s_sourceLength > 0 ? $", generated C# {s_sourceLength / 1024:N0} KiB" : ""));

    /// <summary>Cold builds of up to minutes each: no warm-up, two measured builds per case.</summary>
    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(0).WithIterationCount(2).WithInvocationCount(1).WithUnrollFactor(1));
    }
}
