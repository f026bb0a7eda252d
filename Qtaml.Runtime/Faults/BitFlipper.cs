using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Qtaml.Physics;

namespace Qtaml.Faults;

/// <summary>
/// Flips the bits of one layer's stored codes: every allowed bit independently, a stored 1 with
/// probability p10 and a stored 0 with p01. Two exact samplers, chosen by the probability alone so that
/// a seed always gives the same faults:
/// <list type="bullet">
/// <item><b>Bit-sliced comparison</b> (p ≥ <see cref="GeometricThreshold"/>). A bit should flip when a
/// uniform U &lt; p. Compare 256 independent U's with p at once, one binary digit at a time from the most
/// significant: a lane is decided at the first digit where its U and p differ, so each random word settles
/// half the open lanes. After ten digits the rare lane still open is settled by one scalar draw against the
/// rest of p's digits, so a mask of 256 bits costs ten vector draws instead of 256 scalar ones. The
/// probability is exact to 2^−54.</item>
/// <item><b>Geometric skipping</b> (small p). The gap to the next flip is geometric, so draw gaps instead
/// of bits: one logarithm per flip instead of one draw per bit. With p10 ≠ p01 candidates are drawn at the
/// larger rate and thinned by the stored bit (accepted with p_bit/p_max), which is exact.</item>
/// </list>
/// </summary>
internal static class BitFlipper
{
    /// <summary>
    /// Below this flip probability gaps are cheaper to draw than masks. Measured on the benchmark machine over
    /// 1 MiB: masks cost about 0.9 ms whatever p is; skipping costs about 0.22 ms per 0.001 of p
    /// (0.22 ms at 0.001, 2.2 ms at 0.01), so the two meet near 0.004.
    /// </summary>
    public const double GeometricThreshold = 0.004;

    /// <summary>
    /// Digits of p compared a whole vector at a time, with no data-dependent exit, before the few lanes still
    /// open (one in 2^10) are settled one by one.
    /// </summary>
    private const int VectorDigits = 10;

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
        var random = new MaskGenerator(seed);
        ulong threshold10 = Threshold(flips.P10), threshold01 = Threshold(flips.P01);
        bool symmetric = threshold10 == threshold01, twoSided = !symmetric && threshold01 != 0;
        Vector256<ulong> allowed = Vector256.Create(allowedPlanes);

        // Masks are made a chunk at a time into a buffer and applied in a second, simple loop: the generating
        // loop then keeps its whole state in registers (measured: mixing the two spilled it to the stack).
        Span<Vector256<ulong>> ones10 = stackalloc Vector256<ulong>[ChunkBlocks];
        Span<Vector256<ulong>> ones01 = stackalloc Vector256<ulong>[twoSided ? ChunkBlocks : 0];
        Span<Vector256<ulong>> scratch = stackalloc Vector256<ulong>[ChunkBlocks];
        int usedBlocks = (validBytes + 31) / 32;
        long flipped = 0;
        for (int chunkStart = 0; chunkStart < usedBlocks; chunkStart += ChunkBlocks)
        {
            int count = Math.Min(ChunkBlocks, usedBlocks - chunkStart);
            int even = (count + 1) & ~1;
            random.Fill(ones10[..even], scratch[..even], threshold10);
            if (twoSided) random.Fill(ones01[..even], scratch[..even], threshold01);
            for (int j = 0; j < count; j++)
            {
                int i = chunkStart + j;
                Vector256<ulong> word = blocks[i];
                // Symmetric flips ignore the stored bit; otherwise p10 acts on stored ones and p01 on stored zeros.
                Vector256<ulong> flip = symmetric ? ones10[j] : word & ones10[j];
                if (twoSided) flip |= Vector256.AndNot(ones01[j], word);
                flip &= allowed & ValidMask(validBytes - i * 32);
                blocks[i] = word ^ flip;
                flipped += PopCount(flip);
            }
        }
        return flipped;
    }

    /// <summary>Blocks of 32 bytes per chunk of masks (2 KiB of stack per buffer).</summary>
    private const int ChunkBlocks = 64;

    /// <summary>
    /// Two generators of four xoshiro256++ streams each, advanced together, and a scalar stream for the rare
    /// lane the vector digits leave open. Masks come two blocks at a time: the two halves are independent
    /// dependency chains the core overlaps.
    /// </summary>
    private struct MaskGenerator
    {
        private Vector256<ulong> _a0, _a1, _a2, _a3, _b0, _b1, _b2, _b3;
        private Xoshiro256PlusPlus _stragglers;

        public MaskGenerator(ulong seed)
        {
            Xoshiro256PlusPlusX4.Seed(SplitMix64.Derive(seed, 0), out _a0, out _a1, out _a2, out _a3);
            Xoshiro256PlusPlusX4.Seed(SplitMix64.Derive(seed, 1), out _b0, out _b1, out _b2, out _b3);
            _stragglers = new Xoshiro256PlusPlus(SplitMix64.Derive(seed, 2));
        }

        /// <summary>Fills an even number of blocks with independent bits, each 1 with probability threshold/2^64 (<paramref name="open"/> is scratch of the same length).</summary>
        public void Fill(Span<Vector256<ulong>> masks, Span<Vector256<ulong>> open, ulong threshold)
        {
            // p's leading binary digits as all-ones / all-zeros vectors.
            Span<Vector256<ulong>> pDigits = stackalloc Vector256<ulong>[VectorDigits];
            for (int d = 0; d < VectorDigits; d++) pDigits[d] = Vector256.Create(0UL - ((threshold >> (63 - d)) & 1));

            // The state in plain locals for the loop: fields of a struct behind a reference live in memory.
            Vector256<ulong> a0 = _a0, a1 = _a1, a2 = _a2, a3 = _a3, b0 = _b0, b1 = _b1, b2 = _b2, b3 = _b3;
            for (int i = 0; i + 1 < masks.Length; i += 2)
            {
                // Lane j is 1 when the uniform U_j = 0.r1 r2 r3 ... is below p = 0.t1 t2 t3 ..., decided at the
                // first digit where the two differ.
                Vector256<ulong> openA = Vector256<ulong>.AllBitsSet, onesA = Vector256<ulong>.Zero;
                Vector256<ulong> openB = Vector256<ulong>.AllBitsSet, onesB = Vector256<ulong>.Zero;
                for (int d = 0; d < VectorDigits; d++)
                {
                    Vector256<ulong> rA = RotateLeft(a0 + a3, 23) + a0, tA = Vector256.ShiftLeft(a1, 17);
                    Vector256<ulong> rB = RotateLeft(b0 + b3, 23) + b0, tB = Vector256.ShiftLeft(b1, 17);
                    a2 ^= a0; b2 ^= b0;
                    a3 ^= a1; b3 ^= b1;
                    a1 ^= a2; b1 ^= b2;
                    a0 ^= a3; b0 ^= b3;
                    a2 ^= tA; b2 ^= tB;
                    a3 = RotateLeft(a3, 45); b3 = RotateLeft(b3, 45);

                    Vector256<ulong> pDigit = pDigits[d];
                    onesA |= Vector256.AndNot(openA & pDigit, rA);   // U's 0 under p's 1: U < p
                    onesB |= Vector256.AndNot(openB & pDigit, rB);
                    openA = Vector256.AndNot(openA, rA ^ pDigit);    // digits still equal: keep comparing
                    openB = Vector256.AndNot(openB, rB ^ pDigit);
                }
                masks[i] = onesA;
                masks[i + 1] = onesB;
                open[i] = openA;
                open[i + 1] = openB;
            }
            _a0 = a0; _a1 = a1; _a2 = a2; _a3 = a3; _b0 = b0; _b1 = b1; _b2 = b2; _b3 = b3;

            // Each digit settles half the open lanes: after ten about one lane in a thousand is open. A lane whose
            // first d digits equal p's is 1 with probability 0.t_{d+1} t_{d+2} ...: one scalar draw settles it.
            // (A separate pass: a call inside the loop above would force its state out of registers.)
            for (int i = 0; i < masks.Length; i++)
                if (open[i] != Vector256<ulong>.Zero) masks[i] |= SettleOpenLanes(open[i], threshold << VectorDigits, ref _stragglers);
        }
    }

    /// <summary>Decides the lanes still open after the vector digits, one scalar draw each.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector256<ulong> SettleOpenLanes(Vector256<ulong> open, ulong remainingThreshold, ref Xoshiro256PlusPlus random)
    {
        Vector256<ulong> ones = Vector256<ulong>.Zero;
        for (int j = 0; j < 4; j++)
        {
            ulong lanes = open.GetElement(j), set = 0;   // usually zero
            while (lanes != 0)
            {
                ulong lowest = lanes & (0 - lanes);
                if (random.NextUInt64() < remainingThreshold) set |= lowest;
                lanes ^= lowest;
            }
            ones = ones.WithElement(j, set);
        }
        return ones;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PopCount(Vector256<ulong> v) =>
        BitOperations.PopCount(v.GetElement(0)) + BitOperations.PopCount(v.GetElement(1))
        + BitOperations.PopCount(v.GetElement(2)) + BitOperations.PopCount(v.GetElement(3));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> RotateLeft(Vector256<ulong> x, [ConstantExpected] byte k) =>
        Avx512F.VL.IsSupported
            ? Avx512F.VL.RotateLeft(x, k)   // one vprolq instead of two shifts and an or; same bits
            : Vector256.ShiftLeft(x, k) | Vector256.ShiftRightLogical(x, 64 - k);

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

    /// <summary>All bits of the first <paramref name="validBytes"/> bytes of a 32-byte block (all of it from 32 on).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> ValidMask(int validBytes) => validBytes >= 32 ? Vector256<ulong>.AllBitsSet : TailMask(validBytes);

    private static Vector256<ulong> TailMask(int validBytes)
    {
        Span<byte> bytes = stackalloc byte[32];
        bytes.Clear();
        bytes[..validBytes].Fill(0xFF);
        return Vector256.Create<byte>(bytes).AsUInt64();
    }
}
