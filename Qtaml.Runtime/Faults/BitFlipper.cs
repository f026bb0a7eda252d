using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Qtaml.Physics;

namespace Qtaml.Faults;

/// <summary>
/// Flips the bits of one layer's stored codes: every allowed bit independently, a stored 1 with
/// probability p10 and a stored 0 with p01. Two exact samplers, chosen by the probability alone so that
/// a seed always gives the same faults:
/// <list type="bullet">
/// <item><b>Bit-sliced comparison</b> (p ≥ <see cref="GeometricThreshold"/>). A bit should flip when a
/// uniform U &lt; p. Compare 256 independent U's with p at once, one binary digit at a time from the most
/// significant: a lane is decided at the first digit where its U and p differ, so each random 256-bit word
/// settles about half the open lanes and a whole mask costs about log2(256) + (leading zeros of p) words
/// instead of 256 draws. The probability is exact to 2^−64.</item>
/// <item><b>Geometric skipping</b> (small p). The gap to the next flip is geometric, so draw gaps instead
/// of bits: one logarithm per flip instead of one draw per bit. With p10 ≠ p01 candidates are drawn at the
/// larger rate and thinned by the stored bit (accepted with p_bit/p_max), which is exact.</item>
/// </list>
/// </summary>
internal static class BitFlipper
{
    /// <summary>Below this flip probability gaps are cheaper to draw than masks (measured: see docs/benchmarks.md).</summary>
    public const double GeometricThreshold = 0.02;

    /// <summary>
    /// Flips bits of <paramref name="padded"/> in place and returns how many flipped.
    /// </summary>
    /// <param name="padded">The layer's bytes, padded to a multiple of 32 bytes.</param>
    /// <param name="validBytes">How many leading bytes hold codes; the padding never flips.</param>
    /// <param name="allowedPlanes">Bits that may flip, the same pattern repeated for every code of the word (unprotected planes below b).</param>
    /// <param name="flips">p10 and p01.</param>
    /// <param name="seed">The layer's seed.</param>
    public static long Flip(Span<byte> padded, int validBytes, ulong allowedPlanes, FlipProbabilities flips, ulong seed)
    {
        double pMax = Math.Max(flips.P10, flips.P01);
        if (pMax == 0 || allowedPlanes == 0 || validBytes == 0) return 0;
        return pMax < GeometricThreshold
            ? FlipBySkipping(MemoryMarshal.Cast<byte, ulong>(padded), validBytes, allowedPlanes, flips, seed)
            : FlipByMasks(MemoryMarshal.Cast<byte, Vector256<ulong>>(padded), validBytes, allowedPlanes, flips, seed);
    }

    private static long FlipByMasks(Span<Vector256<ulong>> blocks, int validBytes, ulong allowedPlanes, FlipProbabilities flips, ulong seed)
    {
        var random = new Xoshiro256PlusPlusX4(seed);
        ulong threshold10 = Threshold(flips.P10), threshold01 = Threshold(flips.P01);
        bool symmetric = threshold10 == threshold01;
        Vector256<ulong> allowed = Vector256.Create(allowedPlanes);
        int fullBlocks = validBytes / 32;
        long flipped = 0;
        for (int i = 0; i < blocks.Length && i * 32 < validBytes; i++)
        {
            Vector256<ulong> mask = i < fullBlocks ? allowed : allowed & TailMask(validBytes - i * 32);
            Vector256<ulong> word = blocks[i];
            Vector256<ulong> flip;
            if (symmetric)
            {
                flip = BernoulliMask(ref random, threshold10);
            }
            else
            {
                flip = word & BernoulliMask(ref random, threshold10);
                if (threshold01 != 0) flip |= Vector256.AndNot(BernoulliMask(ref random, threshold01), word);
            }
            flip &= mask;
            blocks[i] = word ^ flip;
            flipped += BitOperations.PopCount(flip.GetElement(0)) + BitOperations.PopCount(flip.GetElement(1))
                     + BitOperations.PopCount(flip.GetElement(2)) + BitOperations.PopCount(flip.GetElement(3));
        }
        return flipped;
    }

    /// <summary>256 independent bits, each 1 with probability threshold/2^64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> BernoulliMask(ref Xoshiro256PlusPlusX4 random, ulong threshold)
    {
        if (threshold == 0) return Vector256<ulong>.Zero;
        Vector256<ulong> undecided = Vector256<ulong>.AllBitsSet, ones = Vector256<ulong>.Zero;
        for (int digit = 63; digit >= 0; digit--)
        {
            Vector256<ulong> r = random.Next();
            if (((threshold >> digit) & 1) != 0)
            {
                ones |= Vector256.AndNot(undecided, r);   // U's digit 0 under p's 1: U < p
                undecided &= r;
            }
            else
            {
                undecided = Vector256.AndNot(undecided, r);   // U's digit 1 over p's 0: U > p
            }
            if (undecided == Vector256<ulong>.Zero) break;
        }
        return ones;
    }

    private static long FlipBySkipping(Span<ulong> words, int validBytes, ulong allowedPlanes, FlipProbabilities flips, ulong seed)
    {
        var random = new Xoshiro256PlusPlus(seed);
        double pMax = Math.Max(flips.P10, flips.P01);
        double accept1 = flips.P10 / pMax, accept0 = flips.P01 / pMax;   // thinning by the stored bit
        double logMiss = Math.Log(1 - pMax);                              // ln(1 − p) < 0
        long totalBits = (long)validBytes * 8;
        long position = -1, flipped = 0;
        while (true)
        {
            // Failures before the next success of a Bernoulli(p_max) sequence: ⌊ln U / ln(1 − p)⌋.
            double gap = Math.Floor(Math.Log(random.NextDoubleNonZero()) / logMiss);
            if (gap >= totalBits - position) break;
            position += (long)gap + 1;
            if (position >= totalBits) break;

            int wordIndex = (int)(position >> 6);
            int bit = (int)(position & 63);
            ulong bitMask = 1UL << bit;
            if ((allowedPlanes & bitMask & ValidBits(wordIndex, validBytes)) == 0) continue;
            bool storedOne = (words[wordIndex] & bitMask) != 0;
            double accept = storedOne ? accept1 : accept0;
            if (accept < 1 && (accept == 0 || random.NextDouble() >= accept)) continue;
            words[wordIndex] ^= bitMask;
            flipped++;
        }
        return flipped;
    }

    /// <summary>⌊p·2^64⌋: a 64-bit uniform is below it with probability p (to 2^−64).</summary>
    private static ulong Threshold(double p) => p <= 0 ? 0 : (ulong)(p * 18446744073709551616.0);

    /// <summary>All bits of the bytes of word <paramref name="wordIndex"/> that hold codes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ValidBits(int wordIndex, int validBytes)
    {
        int bytesInWord = validBytes - wordIndex * 8;
        if (bytesInWord >= 8) return ulong.MaxValue;
        Span<byte> bytes = stackalloc byte[8];
        bytes.Clear();
        bytes[..bytesInWord].Fill(0xFF);
        return MemoryMarshal.Read<ulong>(bytes);
    }

    /// <summary>All bits of the first <paramref name="validBytes"/> (&lt; 32) bytes of a block.</summary>
    private static Vector256<ulong> TailMask(int validBytes)
    {
        Span<byte> bytes = stackalloc byte[32];
        bytes.Clear();
        bytes[..validBytes].Fill(0xFF);
        return Vector256.Create<byte>(bytes).AsUInt64();
    }
}
