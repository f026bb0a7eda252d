using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains;
using BenchmarkDotNet.Toolchains.NativeAot;

namespace Qtaml.Benchmarks;

/// <summary>
/// The inference benchmarks once per instruction-set configuration an edge app meets: the JIT with everything
/// the CPU has, with AVX-512 off, with AVX2 and FMA off (older Atom/Celeron-class x64 parts), and a NativeAOT
/// build with its default instruction set (x86-64-v2). ONNX Runtime runs in each (its native code picks its
/// own kernels), so the ratios compare like with like.
/// </summary>
[Config(typeof(MatrixConfig))]
public class InstructionSetMatrixBenchmarks : InferenceCases
{
    private sealed class MatrixConfig : ManualConfig
    {
        public MatrixConfig()
        {
            Job quick = Job.Default.WithWarmupCount(2).WithIterationCount(6);
            AddJob(quick.WithId("JIT"));
            AddJob(quick.WithEnvironmentVariable("DOTNET_EnableAVX512", "0").WithId("JIT, AVX-512 off"));
            AddJob(quick.WithEnvironmentVariables(new EnvironmentVariable("DOTNET_EnableAVX2", "0"), new EnvironmentVariable("DOTNET_EnableFMA", "0")).WithId("JIT, AVX2+FMA off"));
            // BenchmarkDotNet's default NativeAOT toolchain restores the ILCompiler from a feed of its own choosing; take
            // it from the package source this machine is configured with, at the version of the running runtime.
            IToolchain nativeAot = NativeAotToolchain.CreateBuilder()
                .UseNuGet(Environment.Version.ToString(), ConfiguredPackageSource.First())
                .IlcInstructionSet("x86-64-v2")   // NativeAOT's default; BenchmarkDotNet would target the host's
                .TargetFrameworkMoniker("net10.0")
                .ToToolchain();
            AddJob(quick.WithToolchain(nativeAot).WithId("NativeAOT x86-64-v2"));
        }
    }
}
