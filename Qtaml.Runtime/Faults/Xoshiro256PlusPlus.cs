using System.Numerics;
using System.Runtime.CompilerServices;

namespace Qtaml.Faults;

/// <summary>
/// xoshiro256++ (Blackman and Vigna, 2019), one stream. We carry our own rather than use
/// <see cref="System.Random"/> because a seeded <c>Random</c> falls back to the legacy .NET Framework
/// algorithm, which is several times slower and whose sequence we do not control; fault campaigns must
/// reproduce bit-for-bit from a seed on every runtime and core count.
/// </summary>
internal struct Xoshiro256PlusPlus
{
    private ulong _s0, _s1, _s2, _s3;

    public Xoshiro256PlusPlus(ulong seed)
    {
        var mixer = new SplitMix64(seed);
        _s0 = mixer.Next();
        _s1 = mixer.Next();
        _s2 = mixer.Next();
        _s3 = mixer.Next();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s0 + _s3, 23) + _s0;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform double in (0, 1]: safe to take the logarithm of.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDoubleNonZero() => ((NextUInt64() >> 11) + 1) * (1.0 / (1UL << 53));
}
