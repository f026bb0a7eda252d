using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Qtaml.Faults;

/// <summary>
/// Four independent xoshiro256++ streams advanced together in one <see cref="Vector256{T}"/>: 256
/// random bits per step. <see cref="Vector256{T}"/> falls back to scalar code where AVX2 is missing, so
/// the sequence, and with it every injected fault, is the same on every machine.
/// </summary>
internal struct Xoshiro256PlusPlusX4
{
    private Vector256<ulong> _s0, _s1, _s2, _s3;

    public Xoshiro256PlusPlusX4(ulong seed)
    {
        var mixer = new SplitMix64(seed);
        _s0 = Vector256.Create(mixer.Next(), mixer.Next(), mixer.Next(), mixer.Next());
        _s1 = Vector256.Create(mixer.Next(), mixer.Next(), mixer.Next(), mixer.Next());
        _s2 = Vector256.Create(mixer.Next(), mixer.Next(), mixer.Next(), mixer.Next());
        _s3 = Vector256.Create(mixer.Next(), mixer.Next(), mixer.Next(), mixer.Next());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<ulong> Next()
    {
        Vector256<ulong> sum = _s0 + _s3;
        Vector256<ulong> result = RotateLeft(sum, 23) + _s0;
        Vector256<ulong> t = Vector256.ShiftLeft(_s1, 17);
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> RotateLeft(Vector256<ulong> x, int k) =>
        Vector256.ShiftLeft(x, k) | Vector256.ShiftRightLogical(x, 64 - k);
}
