using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using Qtaml.Faults;

namespace Qtaml.Benchmarks;

/// <summary>
/// Fault-injector throughput over a 1 MiB weight image of 8-bit codes (all planes unprotected), against
/// the one-draw-per-bit loop, at the paper's p = 0.1 and at a quiet node's p = 0.001. Single-threaded.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class InjectorThroughputBenchmarks
{
    public const int ImageBytes = 1 << 20;

    private static readonly string[] LayerNames = { "weights" };
    private static readonly int[] NoProtection = { 0 };

    private WeightImage _image = null!;
    private byte[] _raw = null!;
    private TunnelingFaultModel _model = null!;
    private ulong _seed;

    [Params(0.1, 0.001)]
    public double P { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        int[] codes = Enumerable.Range(0, ImageBytes).Select(_ => random.Next(-128, 128)).ToArray();
        _image = WeightImage.FromCodes(8, LayerNames, new[] { codes });
        _raw = _image.Bytes.ToArray();
        _model = TunnelingFaultModel.Symmetric(P);
    }

    [Benchmark(Baseline = true, Description = "one draw per bit")]
    public long OneDrawPerBit() => OneDrawPerBitInjector.Inject(_raw, 0xFF, P, ++_seed);

    [Benchmark(Description = "TunnelingFaultModel.Inject")]
    public long Injector() => _model.Inject(_image, NoProtection, ++_seed);

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(15));
            // MB/s of weight image processed (10^6 bytes a second), from the mean time.
            AddColumn(new MeanRateColumn("MB/s", "Megabytes (10^6 B) of weight image per second, single thread", _ => ImageBytes, 1e6, "F0"));
            SummaryStyle = SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend);
        }
    }
}
