using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace Qtaml.Benchmarks;

/// <summary>
/// The machine's own ceiling for a convolution: multiply-adds a core retires a second with nothing but fused
/// multiply-adds in flight, twelve independent accumulators (more than the FMA latency times the units, so none waits
/// for the one before), one thread, at each vector width. A network whose time is its multiply-adds at this rate
/// cannot be beaten by better code, only by fewer or narrower multiply-adds; docs/benchmarks.md puts the real models'
/// rates (their multiply-adds over their measured time) beside it.
/// </summary>
[Config(typeof(Config))]
public class FmaPeakBenchmarks
{
    /// <summary>Loop iterations per call: 12 FMAs each, 2.4·10⁷ FMA instructions, a few milliseconds.</summary>
    public const int Iterations = 2_000_000;

    private const int Accumulators = 12;

    [Benchmark(Description = "Vector512 FMA")]
    public float Vector512Peak() => Vector512.IsHardwareAccelerated ? Fma512(Iterations, Vector512.Create(0.999f), Vector512.Create(1e-4f)).ToScalar() : float.NaN;

    [Benchmark(Baseline = true, Description = "Vector256 FMA")]
    public float Vector256Peak() => Fma256(Iterations, Vector256.Create(0.999f), Vector256.Create(1e-4f)).ToScalar();

    [Benchmark(Description = "Vector128 FMA")]
    public float Vector128Peak() => Fma128(Iterations, Vector128.Create(0.999f), Vector128.Create(1e-4f)).ToScalar();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector512<float> Fma512(int n, Vector512<float> a, Vector512<float> b)
    {
        Vector512<float> c0 = a, c1 = b, c2 = a + b, c3 = a - b, c4 = a * b, c5 = a + a, c6 = b + b, c7 = a * a, c8 = b * b, c9 = a + b + b, c10 = a + a + b, c11 = b - a;
        for (int i = 0; i < n; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, a, b); c1 = Vector512.FusedMultiplyAdd(c1, a, b); c2 = Vector512.FusedMultiplyAdd(c2, a, b);
            c3 = Vector512.FusedMultiplyAdd(c3, a, b); c4 = Vector512.FusedMultiplyAdd(c4, a, b); c5 = Vector512.FusedMultiplyAdd(c5, a, b);
            c6 = Vector512.FusedMultiplyAdd(c6, a, b); c7 = Vector512.FusedMultiplyAdd(c7, a, b); c8 = Vector512.FusedMultiplyAdd(c8, a, b);
            c9 = Vector512.FusedMultiplyAdd(c9, a, b); c10 = Vector512.FusedMultiplyAdd(c10, a, b); c11 = Vector512.FusedMultiplyAdd(c11, a, b);
        }
        return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector256<float> Fma256(int n, Vector256<float> a, Vector256<float> b)
    {
        Vector256<float> c0 = a, c1 = b, c2 = a + b, c3 = a - b, c4 = a * b, c5 = a + a, c6 = b + b, c7 = a * a, c8 = b * b, c9 = a + b + b, c10 = a + a + b, c11 = b - a;
        for (int i = 0; i < n; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, a, b); c1 = Vector256.FusedMultiplyAdd(c1, a, b); c2 = Vector256.FusedMultiplyAdd(c2, a, b);
            c3 = Vector256.FusedMultiplyAdd(c3, a, b); c4 = Vector256.FusedMultiplyAdd(c4, a, b); c5 = Vector256.FusedMultiplyAdd(c5, a, b);
            c6 = Vector256.FusedMultiplyAdd(c6, a, b); c7 = Vector256.FusedMultiplyAdd(c7, a, b); c8 = Vector256.FusedMultiplyAdd(c8, a, b);
            c9 = Vector256.FusedMultiplyAdd(c9, a, b); c10 = Vector256.FusedMultiplyAdd(c10, a, b); c11 = Vector256.FusedMultiplyAdd(c11, a, b);
        }
        return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector128<float> Fma128(int n, Vector128<float> a, Vector128<float> b)
    {
        Vector128<float> c0 = a, c1 = b, c2 = a + b, c3 = a - b, c4 = a * b, c5 = a + a, c6 = b + b, c7 = a * a, c8 = b * b, c9 = a + b + b, c10 = a + a + b, c11 = b - a;
        for (int i = 0; i < n; i++)
        {
            c0 = Vector128.FusedMultiplyAdd(c0, a, b); c1 = Vector128.FusedMultiplyAdd(c1, a, b); c2 = Vector128.FusedMultiplyAdd(c2, a, b);
            c3 = Vector128.FusedMultiplyAdd(c3, a, b); c4 = Vector128.FusedMultiplyAdd(c4, a, b); c5 = Vector128.FusedMultiplyAdd(c5, a, b);
            c6 = Vector128.FusedMultiplyAdd(c6, a, b); c7 = Vector128.FusedMultiplyAdd(c7, a, b); c8 = Vector128.FusedMultiplyAdd(c8, a, b);
            c9 = Vector128.FusedMultiplyAdd(c9, a, b); c10 = Vector128.FusedMultiplyAdd(c10, a, b); c11 = Vector128.FusedMultiplyAdd(c11, a, b);
        }
        return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10));
            // 10⁹ float multiply-adds a second, from the mean time and the lanes of the benchmark's width.
            AddColumn(new MeanRateColumn("G multiply-adds/s", "10^9 float multiply-adds per second on one thread", benchmark =>
                (double)Iterations * Accumulators * (benchmark.Descriptor.WorkloadMethod.Name switch { nameof(Vector512Peak) => 16, nameof(Vector256Peak) => 8, _ => 4 }), 1e9, "F1"));
        }
    }
}
