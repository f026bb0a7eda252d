using System.Runtime.Intrinsics;

namespace Qtaml.Faults;

/// <summary>
/// Four independent xoshiro256++ streams advanced together in one <see cref="Vector256{T}"/>: 256
/// random bits per step. The step itself is written out where it is used (<see cref="BitFlipper"/>), with
/// the state in locals the JIT keeps in registers. <see cref="Vector256{T}"/> falls back to scalar code
/// where AVX2 is missing, so the sequence, and with it every injected fault, is the same on every machine.
/// </summary>
internal static class Xoshiro256PlusPlusX4
{
    /// <summary>The initial state of the four streams of <paramref name="seed"/>: lane j of s0..s3 is stream j.</summary>
    public static void Seed(ulong seed, out Vector256<ulong> s0, out Vector256<ulong> s1, out Vector256<ulong> s2, out Vector256<ulong> s3)
    {
        var mixer = new SplitMix64(seed);
        s0 = Vector256.Create(mixer.Next(), mixer.Next(), mixer.Next(), mixer.Next());
        s1 = Vector256.Create(mixer.Next(), mixer.Next(), mixer.Next(), mixer.Next());
        s2 = Vector256.Create(mixer.Next(), mixer.Next(), mixer.Next(), mixer.Next());
        s3 = Vector256.Create(mixer.Next(), mixer.Next(), mixer.Next(), mixer.Next());
    }
}
