using System;
using System.Collections.Generic;
using Qtaml.Physics;

namespace Qtaml.Moments;

/// <summary>
/// Closed-form moments of a code read back from leaky memory (DESIGN 3.4). Protected bit-planes never
/// flip; an unprotected bit stored as β_k reads as 1 with probability π_k = β_k(1 − p10) + (1 − β_k)p01,
/// independently of every other bit. Hence, with U the unprotected planes,
/// <code>
///   E[q~]   = q − (p10 + p01)·q_U + p01·W_U        q_U = Σ_{k∈U} w_k β_k,   W_U = Σ_{k∈U} w_k
///   Var[q~] = Σ_{k∈U} w_k² π_k (1 − π_k)
/// </code>
/// </summary>
public static class ErrorMoments
{
    /// <summary>π_k: the probability that bit-plane <paramref name="plane"/> of the stored code reads as 1.</summary>
    public static double ReadsOneProbability(int code, int plane, FlipProbabilities flips) =>
        flips.ReadsOne(StoredCode.BitIsSet(code, plane));

    /// <summary>E[q~]: the mean of the code read back.</summary>
    /// <param name="code">The stored code, in [−2^{b−1}, 2^{b−1}).</param>
    /// <param name="bits">The bit width b, 2..16.</param>
    /// <param name="protectedPlanes">A mask of the planes that never flip (bit k set = plane k protected).</param>
    /// <param name="flips">p10 and p01.</param>
    public static double ReadMean(int code, int bits, int protectedPlanes, FlipProbabilities flips)
    {
        StoredCode.ValidateBits(bits);
        StoredCode.ValidateCode(code, bits);
        double unprotectedValue = 0, unprotectedWeights = 0;   // q_U and W_U
        for (int k = 0; k < bits; k++)
        {
            if ((protectedPlanes & (1 << k)) != 0) continue;
            int w = StoredCode.BitWeight(k, bits);
            unprotectedWeights += w;
            if (StoredCode.BitIsSet(code, k)) unprotectedValue += w;
        }
        return code - (flips.P10 + flips.P01) * unprotectedValue + flips.P01 * unprotectedWeights;
    }

    /// <summary>Var[q~]: the variance of the code read back.</summary>
    public static double ReadVariance(int code, int bits, int protectedPlanes, FlipProbabilities flips)
    {
        StoredCode.ValidateBits(bits);
        StoredCode.ValidateCode(code, bits);
        double variance = 0;
        for (int k = 0; k < bits; k++)
        {
            if ((protectedPlanes & (1 << k)) != 0) continue;
            double w = StoredCode.BitWeight(k, bits);
            double pi = ReadsOneProbability(code, k, flips);
            variance += w * w * pi * (1 - pi);
        }
        return variance;
    }

    /// <summary>Mean and variance of the code read back.</summary>
    public static ErrorMoment Read(int code, int bits, int protectedPlanes, FlipProbabilities flips) =>
        new(ReadMean(code, bits, protectedPlanes, flips), ReadVariance(code, bits, protectedPlanes, flips));

    /// <summary>
    /// Mean and variance of the code read back in either encoding. Two's complement as above. Sign-magnitude
    /// v = (1 − 2σ)·m, with σ the top bit and m = Σ_{k&lt;b−1} 2^k β_k; σ~ and m~ are independent, so
    /// <code>
    ///   E[v~]   = (1 − 2π_σ)·E[m~]                      E[m~] = Σ_k 2^k π_k
    ///   Var[v~] = Var[m~] + 4π_σ(1 − π_σ)·E[m~]²        Var[m~] = Σ_{k∈U} 4^k π_k (1 − π_k)
    /// </code>
    /// with π the probability a bit reads 1 (its stored value where it is protected). With η = 0 and the sign
    /// protected, E[v~] = v − p10·(the unprotected part of the magnitude, signed): nothing protected, a pure scale.
    /// </summary>
    public static ErrorMoment Read(int code, int bits, int protectedPlanes, FlipProbabilities flips, CodeEncoding encoding)
    {
        if (encoding == CodeEncoding.TwosComplement) return Read(code, bits, protectedPlanes, flips);
        int pattern = CodeEncodings.ToPattern(code, bits, encoding);
        double Reads(int k)
        {
            bool one = (pattern >> k & 1) != 0;
            return (protectedPlanes & (1 << k)) != 0 ? (one ? 1 : 0) : flips.ReadsOne(one);
        }
        double magnitudeMean = 0, magnitudeVariance = 0;
        for (int k = 0; k < bits - 1; k++)
        {
            double pi = Reads(k), w = 1 << k;
            magnitudeMean += w * pi;
            magnitudeVariance += w * w * pi * (1 - pi);
        }
        double sign = Reads(bits - 1);
        return new ErrorMoment((1 - 2 * sign) * magnitudeMean, magnitudeVariance + 4 * sign * (1 - sign) * magnitudeMean * magnitudeMean);
    }

    /// <summary>
    /// The contribution of bit-plane <paramref name="plane"/> to Var[q~] of an unprotected code:
    /// w_k² π_k (1 − π_k). Summed over the planes it is <see cref="ReadVariance"/>.
    /// </summary>
    public static double PlaneVariance(int code, int plane, int bits, FlipProbabilities flips)
    {
        double w = StoredCode.BitWeight(plane, bits);
        double pi = ReadsOneProbability(code, plane, flips);
        return w * w * pi * (1 - pi);
    }

    /// <summary>
    /// The error of one output of a linear layer y = s·Σ_j q_j x_j when its codes q_j are read back
    /// from leaky memory: mean s·Σ_j E[q~_j − q_j]·x_j and variance s²·Σ_j Var[q~_j]·x_j² (the bits of
    /// different weights flip independently).
    /// </summary>
    /// <param name="codes">The stored codes of one row (one output) of the layer.</param>
    /// <param name="input">The input vector x, the same length as <paramref name="codes"/>.</param>
    /// <param name="scale">The dequantization scale s.</param>
    /// <param name="bits">The bit width b.</param>
    /// <param name="protectedPlanes">A mask of the planes that never flip.</param>
    /// <param name="flips">p10 and p01.</param>
    public static ErrorMoment LinearOutputError(IReadOnlyList<int> codes, IReadOnlyList<double> input, double scale, int bits, int protectedPlanes, FlipProbabilities flips)
    {
        if (codes is null) throw new ArgumentNullException(nameof(codes));
        if (input is null) throw new ArgumentNullException(nameof(input));
        if (codes.Count != input.Count)
            throw new ArgumentException($"The row has {codes.Count} weights but the input has {input.Count} values; they must match.", nameof(input));
        double mean = 0, variance = 0;
        for (int j = 0; j < codes.Count; j++)
        {
            ErrorMoment read = Read(codes[j], bits, protectedPlanes, flips);
            double x = input[j];
            mean += (read.Mean - codes[j]) * x;
            variance += read.Variance * x * x;
        }
        return new ErrorMoment(scale * mean, scale * scale * variance);
    }

    /// <summary>
    /// The share of an unprotected code's variance carried by its most significant plane when every
    /// plane has the same flip variance: 4^{b−1} / Σ_k 4^k = 3·4^{b−1} / (4^b − 1), about 3/4.
    /// </summary>
    public static double MostSignificantPlaneShare(int bits)
    {
        StoredCode.ValidateBits(bits);
        double top = Math.Pow(4, bits - 1);
        return 3 * top / (Math.Pow(4, bits) - 1);
    }
}
