using System;

namespace Qtaml.Moments;

/// <summary>
/// A b-bit two's-complement code: bit k has weight w_k = 2^k for k &lt; b−1 and w_{b−1} = −2^{b−1}
/// (DESIGN 3.4). Bit-planes are numbered from 0 (least significant) to b−1 (the sign bit).
/// </summary>
public static class StoredCode
{
    /// <summary>The smallest bit width the toolkit supports.</summary>
    public const int MinBits = 2;

    /// <summary>The largest bit width the toolkit supports.</summary>
    public const int MaxBits = 16;

    /// <summary>Throws unless <paramref name="bits"/> is in [<see cref="MinBits"/>, <see cref="MaxBits"/>].</summary>
    public static void ValidateBits(int bits, string parameterName = "bits")
    {
        if (bits < MinBits || bits > MaxBits)
            throw new ArgumentOutOfRangeException(parameterName, bits, $"Bit width must be between {MinBits} and {MaxBits}.");
    }

    /// <summary>The most negative code, −2^{b−1}.</summary>
    public static int MinCode(int bits) => -(1 << (bits - 1));

    /// <summary>The most positive code, 2^{b−1} − 1.</summary>
    public static int MaxCode(int bits) => (1 << (bits - 1)) - 1;

    /// <summary>The weight w_k of bit-plane <paramref name="plane"/>.</summary>
    public static int BitWeight(int plane, int bits) => plane == bits - 1 ? -(1 << plane) : 1 << plane;

    /// <summary>The b-bit pattern of a code, as an unsigned number in [0, 2^b).</summary>
    public static int ToPattern(int code, int bits) => code & ((1 << bits) - 1);

    /// <summary>The code a b-bit pattern stands for (sign-extends bit b−1).</summary>
    public static int FromPattern(int pattern, int bits)
    {
        int shift = 32 - bits;
        return (pattern << shift) >> shift;
    }

    /// <summary>Whether bit-plane <paramref name="plane"/> of <paramref name="code"/> holds a 1.</summary>
    public static bool BitIsSet(int code, int plane) => ((code >> plane) & 1) != 0;

    /// <summary>A mask of the top <paramref name="count"/> bit-planes of a b-bit code (the planes MSB-first protection covers).</summary>
    public static int TopPlanesMask(int bits, int count)
    {
        if (count < 0 || count > bits) throw new ArgumentOutOfRangeException(nameof(count), count, $"Between 0 and {bits} planes can be protected.");
        int all = (1 << bits) - 1;
        return all & ~((1 << (bits - count)) - 1);
    }

    /// <summary>Throws unless <paramref name="code"/> fits in b bits.</summary>
    public static void ValidateCode(int code, int bits, string parameterName = "code")
    {
        if (code < MinCode(bits) || code > MaxCode(bits))
            throw new ArgumentOutOfRangeException(parameterName, code, $"A {bits}-bit code must be between {MinCode(bits)} and {MaxCode(bits)}.");
    }
}
