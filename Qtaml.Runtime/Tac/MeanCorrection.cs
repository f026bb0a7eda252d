using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Moments;
using Qtaml.Physics;

namespace Qtaml.Tac;

/// <summary>
/// TAC step 1: cancel the mean drift of leaky storage at build time, with no work per inference
/// (DESIGN 3.5.1).
/// </summary>
/// <remarks>
/// <para><b>No protected planes.</b> The read-out mean is the affine map E[q~] = a·q − p01 with
/// a = 1 − p10 − p01, so the ordinary code q is stored and the layer dequantizes with
/// ŵ = (s/a)·(q~ + p01): then E[ŵ] = s·q exactly.</para>
/// <para><b>Top m planes protected, r = b − m &gt; 0 unprotected.</b> Split a stored code c into its
/// protected part c_P (a multiple of 2^r) and its unprotected low part c_U ∈ [0, 2^r). Only c_U drifts:
/// E[q~] = c_P + a·c_U + p01·(2^r − 1). No single affine map undoes that, so each weight's stored code is
/// chosen (protected part included) to bring E[q~] closest to the intended code q; ties go to the lower
/// read variance. The layer dequantizes with plain s.</para>
/// <para><b>Worst-case residual bias</b> |E[q~] − q| for any target in the code range is the largest of:
/// half the gap between the top mean of one protected block and the bottom of the next,
/// (2^r − a(2^r − 1))/2 = ((2^r − 1)(p10 + p01) + 1)/2 (steps inside a block are a ≤ 1, smaller);
/// the bottom edge, (2^r − 1)·p01 (the most negative code can only drift up); and the top edge,
/// (2^r − 1)·p10 (the most positive code can only drift down).</para>
/// </remarks>
public static class MeanCorrection
{
    /// <summary>
    /// Chooses what to store for each intended code of a layer whose top <paramref name="protectedCount"/>
    /// planes are protected, and how to dequantize it.
    /// </summary>
    public static CorrectedLayer Apply(IReadOnlyList<int> intendedCodes, int bits, int protectedCount, FlipProbabilities flips)
    {
        if (intendedCodes is null) throw new ArgumentNullException(nameof(intendedCodes));
        StoredCode.ValidateBits(bits);
        if (protectedCount < 0 || protectedCount > bits)
            throw new ArgumentOutOfRangeException(nameof(protectedCount), protectedCount, $"Between 0 and {bits} planes can be protected.");

        var stored = new int[intendedCodes.Count];
        // The best stored code depends only on the intended code: search each of the 2^b values at most once.
        var memo = new int?[1 << bits];
        int minCode = StoredCode.MinCode(bits);
        for (int i = 0; i < stored.Length; i++)
        {
            int intended = intendedCodes[i];
            StoredCode.ValidateCode(intended, bits, nameof(intendedCodes));
            if (protectedCount == 0) { stored[i] = intended; continue; }
            int slot = intended - minCode;
            stored[i] = memo[slot] ??= BestStoredCode(intended, bits, protectedCount, flips);
        }

        if (protectedCount == 0 && flips.Contraction < 1)
            return new CorrectedLayer(stored, 1 / flips.Contraction, flips.P01, WorstCaseResidual(bits, 0, flips));
        return new CorrectedLayer(stored, 1, 0, WorstCaseResidual(bits, protectedCount, flips));
    }

    /// <summary>
    /// The stored code whose read-out mean is closest to <paramref name="target"/> when the top
    /// <paramref name="protectedCount"/> planes are protected; ties go to the lower read variance, then to
    /// the smaller code.
    /// </summary>
    public static int BestStoredCode(double target, int bits, int protectedCount, FlipProbabilities flips)
    {
        StoredCode.ValidateBits(bits);
        int protectedMask = StoredCode.TopPlanesMask(bits, protectedCount);
        int minCode = StoredCode.MinCode(bits), maxCode = StoredCode.MaxCode(bits);
        double a = flips.Contraction;
        if (protectedCount == bits) return Clamp((int)Math.Round(target, MidpointRounding.AwayFromZero), minCode, maxCode);
        if (protectedCount == 0)   // E[q~] = a·c − p01 over the whole signed range
            return Clamp((int)Math.Round((target + flips.P01) / a, MidpointRounding.AwayFromZero), minCode, maxCode);

        int r = bits - protectedCount;
        int blockSize = 1 << r;
        double lift = flips.P01 * (blockSize - 1);   // p01·W_U: the unprotected planes are all positive
        int lowestBlock = minCode, highestBlock = maxCode + 1 - blockSize;

        int best = 0;
        double bestDistance = double.PositiveInfinity, bestVariance = double.PositiveInfinity;
        int nearestBlock = (int)Math.Floor(target / blockSize) * blockSize;
        for (int block = nearestBlock - blockSize; block <= nearestBlock + blockSize; block += blockSize)
        {
            if (block < lowestBlock || block > highestBlock) continue;
            double ideal = (target - block - lift) / a;
            int low = Clamp((int)Math.Floor(ideal), 0, blockSize - 1);
            for (int low2 = low; low2 <= Math.Min(low + 1, blockSize - 1); low2++)
            {
                int code = block + low2;
                double distance = Math.Abs(ErrorMoments.ReadMean(code, bits, protectedMask, flips) - target);
                double variance = ErrorMoments.ReadVariance(code, bits, protectedMask, flips);
                if (distance < bestDistance || (distance == bestDistance && variance < bestVariance))
                {
                    best = code;
                    bestDistance = distance;
                    bestVariance = variance;
                }
            }
        }
        return best;
    }

    /// <summary>
    /// Mean correction in either encoding. Two's complement as <see cref="Apply(IReadOnlyList{int}, int, int, FlipProbabilities)"/>.
    /// Sign-magnitude: with one-way leaks (p01 = 0) and only the sign plane protected, the read mean is
    /// (1 − p10)·v exactly, a pure scale folded into dequantization with the codes stored as they are; otherwise
    /// each intended code gets the stored code whose read mean is nearest (ties to the lower variance), found by
    /// searching every code (bit widths up to <see cref="MaxSearchBits"/>).
    /// </summary>
    public static CorrectedLayer Apply(IReadOnlyList<int> intendedCodes, int bits, int protectedCount, FlipProbabilities flips, CodeEncoding encoding)
    {
        if (encoding == CodeEncoding.TwosComplement) return Apply(intendedCodes, bits, protectedCount, flips);
        if (intendedCodes is null) throw new ArgumentNullException(nameof(intendedCodes));
        StoredCode.ValidateBits(bits);
        if (protectedCount < 0 || protectedCount > bits)
            throw new ArgumentOutOfRangeException(nameof(protectedCount), protectedCount, $"Between 0 and {bits} planes can be protected.");
        int minCode = CodeEncodings.MinCode(bits, encoding);
        foreach (int code in intendedCodes)
            if (code < minCode || code > StoredCode.MaxCode(bits))
                throw new ArgumentOutOfRangeException(nameof(intendedCodes), code, $"A {bits}-bit sign-magnitude code must be between {minCode} and {StoredCode.MaxCode(bits)}.");
        if (protectedCount == 1 && flips.P01 == 0 && flips.P10 < 1)
            return new CorrectedLayer(intendedCodes.ToArray(), 1 / (1 - flips.P10), 0, 0);
        if (protectedCount == bits || (flips.P10 == 0 && flips.P01 == 0))
            return new CorrectedLayer(intendedCodes.ToArray(), 1, 0, 0);
        if (bits > MaxSearchBits)
            throw new NotSupportedException($"Mean correction of {bits}-bit sign-magnitude codes searches every code and is offered up to {MaxSearchBits} bits; use two's complement.");
        int mask = StoredCode.TopPlanesMask(bits, protectedCount);
        (int[] best, double[] residual) = SignMagnitudeTable(bits, mask, flips);
        var stored = new int[intendedCodes.Count];
        double worst = 0;
        for (int i = 0; i < stored.Length; i++)
        {
            stored[i] = best[intendedCodes[i] - minCode];
            worst = Math.Max(worst, residual[intendedCodes[i] - minCode]);
        }
        return new CorrectedLayer(stored, 1, 0, worst);
    }

    /// <summary>
    /// The most each layer's stored codes may differ from the intended ones read just after a refresh (no flip yet), as
    /// a mean squared difference in code steps, so that the network read then is never much worse than plain codes.
    /// A correction is a coherent error: it moves every weight of a layer the same way (a scale of 1/(1 − p10) and
    /// more), and deep networks add such errors layer after layer in amplitude, not in power. With
    /// u_l = s_l·√(G_l·n_l), a layer moved by √c steps adds u_l·√c to the output's error amplitude; plain
    /// quantization's error is √(Σ u_l²/12). The bound c = Σ u_l² / (12·(Σ u_l)²), the same for every layer, keeps
    /// the coherent sum Σ u_l·√c within plain quantization's own error, so the predicted distortion read at once is at
    /// most twice the plain codes'. It is never more than 1/12 (one layer: its own rounding noise), and falls as
    /// layers of like sensitivity are added (1/(12·L) for L of them).
    /// </summary>
    /// <param name="sensitivities">G_l per layer.</param>
    /// <param name="weightCounts">n_l per layer.</param>
    /// <param name="layerScales">s_l per layer.</param>
    public static double FreshShiftBound(IReadOnlyList<double> sensitivities, IReadOnlyList<long> weightCounts, IReadOnlyList<double> layerScales)
    {
        if (sensitivities is null) throw new ArgumentNullException(nameof(sensitivities));
        if (weightCounts is null) throw new ArgumentNullException(nameof(weightCounts));
        if (layerScales is null) throw new ArgumentNullException(nameof(layerScales));
        double sum = 0, squares = 0;
        for (int l = 0; l < sensitivities.Count; l++)
        {
            double u = Amplitude(sensitivities[l], weightCounts[l], layerScales[l]);
            sum += u;
            squares += u * u;
        }
        return sum > 0 ? squares / (12 * sum * sum) : 1.0 / 12;
    }

    /// <summary>
    /// The network's error read just after a refresh, in the units of <see cref="FreshShiftBound"/>: the coherent sum
    /// Σ u_l·√f_l of the layers' mean squared shifts f_l, and plain quantization's √(Σ u_l²/12). A plan does no
    /// harm when the first is at most the second.
    /// </summary>
    public static (double Coherent, double Quantization) FreshError(IReadOnlyList<double> sensitivities, IReadOnlyList<long> weightCounts, IReadOnlyList<double> layerScales, IReadOnlyList<double> freshShiftSquared)
    {
        if (freshShiftSquared is null) throw new ArgumentNullException(nameof(freshShiftSquared));
        double coherent = 0, squares = 0;
        for (int l = 0; l < sensitivities.Count; l++)
        {
            double u = Amplitude(sensitivities[l], weightCounts[l], layerScales[l]);
            coherent += u * Math.Sqrt(freshShiftSquared[l]);
            squares += u * u;
        }
        return (coherent, Math.Sqrt(squares / 12));
    }

    private static double Amplitude(double sensitivity, long weights, double scale) => scale * Math.Sqrt(Math.Max(sensitivity, 0) * weights);

    /// <summary>
    /// Mean correction that does no harm (the build's and <c>QuantizedModel.CreateImage</c>'s): the correction of
    /// <see cref="Apply(IReadOnlyList{int}, int, int, FlipProbabilities, CodeEncoding)"/> when its codes, read before
    /// any flip, stay within <paramref name="maxFreshShiftSquared"/> of the intended ones (<see cref="FreshShiftBound"/>;
    /// infinity where codes are never read without their flips, a static flip probability); otherwise the correction
    /// for the largest share λ of the flips (λ·p10, λ·p01, by bisection) that does. The residual it leaves is reported
    /// against the full flips.
    /// </summary>
    public static CorrectedLayer ApplyDoingNoHarm(IReadOnlyList<int> intendedCodes, int bits, int protectedCount, FlipProbabilities flips, CodeEncoding encoding, double maxFreshShiftSquared)
    {
        if (intendedCodes is null) throw new ArgumentNullException(nameof(intendedCodes));
        return CorrectDoingNoHarm(CodeHistogram.Of(intendedCodes, bits), bits, protectedCount, flips, encoding, maxFreshShiftSquared).For(intendedCodes);
    }

    /// <summary>
    /// <see cref="ApplyDoingNoHarm"/> of a layer given as its histogram: the correction depends on the codes only through
    /// it, and each step of the bisection costs the distinct codes, not the layer's size.
    /// </summary>
    public static CorrectedCodes CorrectDoingNoHarm(CodeHistogram histogram, int bits, int protectedCount, FlipProbabilities flips, CodeEncoding encoding, double maxFreshShiftSquared)
    {
        if (histogram is null) throw new ArgumentNullException(nameof(histogram));
        if (!(maxFreshShiftSquared >= 0)) throw new ArgumentOutOfRangeException(nameof(maxFreshShiftSquared), maxFreshShiftSquared, "The bound is a mean squared shift: zero or more.");
        IReadOnlyList<int> values = histogram.Values;
        CorrectedLayer full = Apply(values, bits, protectedCount, flips, encoding);
        var fullCodes = new CorrectedCodes(histogram, full.ToArray(), full.ScaleFactor, full.CodeOffset, full.WorstCaseResidual);
        if (fullCodes.FreshShiftSquared <= maxFreshShiftSquared) return fullCodes;
        double low = 0, high = 1;
        CorrectedLayer best = Apply(values, bits, protectedCount, new FlipProbabilities(0, 0), encoding);
        for (int step = 0; step < 24; step++)
        {
            double share = (low + high) / 2;
            CorrectedLayer candidate = Apply(values, bits, protectedCount, new FlipProbabilities(share * flips.P10, share * flips.P01), encoding);
            if (new CorrectedCodes(histogram, candidate.ToArray(), candidate.ScaleFactor, candidate.CodeOffset, 0).FreshShiftSquared <= maxFreshShiftSquared) (low, best) = (share, candidate);
            else high = share;
        }
        return new CorrectedCodes(histogram, best.ToArray(), best.ScaleFactor, best.CodeOffset, Residual(best, values, bits, protectedCount, flips, encoding));
    }

    /// <summary>The mean over a layer of (ŵ/s − q)² read before any flip: how far the correction moved the codes.</summary>
    public static double FreshShiftSquared(CorrectedLayer corrected, IReadOnlyList<int> intendedCodes)
    {
        if (intendedCodes.Count == 0) return 0;
        double sum = 0;
        IReadOnlyList<int> stored = corrected.StoredCodes;
        for (int i = 0; i < stored.Count; i++)
        {
            double shift = corrected.ScaleFactor * (stored[i] + corrected.CodeOffset) - intendedCodes[i];
            sum += shift * shift;
        }
        return sum / intendedCodes.Count;
    }

    /// <summary>The largest |E[ŵ]/s − q| a correction leaves under <paramref name="flips"/>, over the layer's codes.</summary>
    private static double Residual(CorrectedLayer corrected, IReadOnlyList<int> intendedCodes, int bits, int protectedCount, FlipProbabilities flips, CodeEncoding encoding)
    {
        int mask = StoredCode.TopPlanesMask(bits, protectedCount);
        var means = new Dictionary<int, double>();
        double worst = 0;
        for (int i = 0; i < intendedCodes.Count; i++)
        {
            int code = corrected.StoredCodes[i];
            if (!means.TryGetValue(code, out double mean)) means[code] = mean = ErrorMoments.Read(code, bits, mask, flips, encoding).Mean;
            worst = Math.Max(worst, Math.Abs(corrected.ScaleFactor * (mean + corrected.CodeOffset) - intendedCodes[i]));
        }
        return worst;
    }

    /// <summary>
    /// For every intended sign-magnitude code, the stored code whose read mean is nearest and how far that mean is
    /// from it. It depends only on the width, the protected planes and the flips, which every layer of a build
    /// shares, so it is computed once per combination (2^b × 2^b moment evaluations) and kept.
    /// </summary>
    private static (int[] Best, double[] Residual) SignMagnitudeTable(int bits, int mask, FlipProbabilities flips)
    {
        var key = (bits, mask, flips.P10, flips.P01);
        lock (Tables)
        {
            if (Tables.TryGetValue(key, out var cached)) return cached;
        }
        int minCode = CodeEncodings.MinCode(bits, CodeEncoding.SignMagnitude), count = StoredCode.MaxCode(bits) - minCode + 1;
        var means = new double[count];
        var variances = new double[count];
        for (int c = 0; c < count; c++)
        {
            ErrorMoment read = ErrorMoments.Read(minCode + c, bits, mask, flips, CodeEncoding.SignMagnitude);
            (means[c], variances[c]) = (read.Mean, read.Variance);
        }
        // Nearest mean by binary search over the codes sorted by mean (|mean − target| is monotone on each side of the
        // target, so the nearest codes are a run around where the search lands, walked both ways); ties to the lower
        // variance, then the lower code.
        int[] order = Enumerable.Range(0, count).OrderBy(c => means[c]).ThenBy(c => c).ToArray();
        double[] sorted = order.Select(c => means[c]).ToArray();
        var best = new int[count];
        var residual = new double[count];
        for (int target = 0; target < count; target++)
        {
            double value = minCode + target;
            int found = Array.BinarySearch(sorted, value), right = found >= 0 ? found : ~found, left = right - 1;
            double distance = Math.Min(left >= 0 ? Math.Abs(sorted[left] - value) : double.PositiveInfinity,
                                       right < count ? Math.Abs(sorted[right] - value) : double.PositiveInfinity);
            int chosen = -1;
            double variance = double.PositiveInfinity;
            void Consider(int c)
            {
                if (variances[c] < variance || (variances[c] == variance && c < chosen)) (chosen, variance) = (c, variances[c]);
            }
            for (int i = left; i >= 0 && Math.Abs(sorted[i] - value) == distance; i--) Consider(order[i]);
            for (int i = right; i < count && Math.Abs(sorted[i] - value) == distance; i++) Consider(order[i]);
            best[target] = minCode + chosen;
            residual[target] = distance;
        }
        lock (Tables)
        {
            if (Tables.Count >= 64) Tables.Clear();   // a build uses a handful; keep the cache bounded
            Tables[key] = (best, residual);
        }
        return (best, residual);
    }

    private static readonly Dictionary<(int, int, double, double), (int[], double[])> Tables = new();

    /// <summary>The widest codes whose correction searches every code (2^b candidates for each intended code).</summary>
    public const int MaxSearchBits = 10;

    /// <summary>
    /// The largest |E[q~] − q| the correction can leave for any target q in the code range, with the top
    /// <paramref name="protectedCount"/> planes protected (0 when nothing or everything is protected).
    /// </summary>
    public static double WorstCaseResidual(int bits, int protectedCount, FlipProbabilities flips)
    {
        StoredCode.ValidateBits(bits);
        if (protectedCount <= 0 || protectedCount >= bits) return 0;   // exact affine correction, or no flips
        double unprotectedSpan = (1 << (bits - protectedCount)) - 1;    // 2^r − 1
        double gap = (unprotectedSpan * (flips.P10 + flips.P01) + 1) / 2;
        double edges = unprotectedSpan * Math.Max(flips.P10, flips.P01);
        return Math.Max(gap, edges);
    }

    private static int Clamp(int value, int min, int max) => value < min ? min : value > max ? max : value;
}
