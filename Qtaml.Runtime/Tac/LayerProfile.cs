using System;
using System.Linq;
using System.Collections.Generic;
using Qtaml.Moments;
using Qtaml.Physics;

namespace Qtaml.Tac;

/// <summary>
/// What the allocator needs to know about one quantized layer: its size n_l, its scale s_l, the
/// sensitivity G_l of the network output to a unit error in one of its weights, and
/// v̄_{l,k}, the mean over its weights of π_k(1 − π_k) for each bit-plane k.
/// </summary>
public sealed class LayerProfile
{
    private readonly double[] _planeFlipVariance;

    /// <summary>Creates a profile from its parts.</summary>
    /// <param name="name">The layer's name, for reports.</param>
    /// <param name="weightCount">n_l, the number of stored weights (at least 1).</param>
    /// <param name="scale">s_l, the quantization step (greater than zero).</param>
    /// <param name="sensitivity">G_l (zero or more).</param>
    /// <param name="planeFlipVariance">v̄_{l,k} for k = 0..b−1, each in [0, 1/4].</param>
    /// <param name="encoding">How the codes are laid out: it sets each plane's weight in D(m) (see <see cref="PlaneWeightSquared"/>).</param>
    public LayerProfile(string name, long weightCount, double scale, double sensitivity, IReadOnlyList<double> planeFlipVariance, CodeEncoding encoding = CodeEncoding.TwosComplement)
    {
        Encoding = encoding;
        if (weightCount < 1) throw new ArgumentOutOfRangeException(nameof(weightCount), weightCount, "A layer holds at least one weight.");
        if (!(scale > 0) || double.IsInfinity(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "The layer scale must be finite and greater than zero.");
        if (!(sensitivity >= 0) || double.IsInfinity(sensitivity)) throw new ArgumentOutOfRangeException(nameof(sensitivity), sensitivity, "The sensitivity must be finite, zero or more.");
        if (planeFlipVariance is null) throw new ArgumentNullException(nameof(planeFlipVariance));
        StoredCode.ValidateBits(planeFlipVariance.Count, nameof(planeFlipVariance));
        _planeFlipVariance = new double[planeFlipVariance.Count];
        for (int k = 0; k < _planeFlipVariance.Length; k++)
        {
            double v = planeFlipVariance[k];
            if (!(v >= 0 && v <= 0.25)) throw new ArgumentOutOfRangeException(nameof(planeFlipVariance), v, $"v̄ of plane {k} must be in [0, 1/4] (it is a mean of π(1 − π)).");
            _planeFlipVariance[k] = v;
        }
        Name = name ?? string.Empty;
        WeightCount = weightCount;
        Scale = scale;
        Sensitivity = sensitivity;
    }

    /// <summary>
    /// Profiles a layer from its intended codes under a flip model: v̄_{l,k} averages π_k(1 − π_k)
    /// over the layer's weights.
    /// </summary>
    public static LayerProfile FromCodes(string name, IReadOnlyList<int> codes, double scale, double sensitivity, int bits, FlipProbabilities flips)
        => FromCodes(name, codes, scale, sensitivity, bits, flips, CodeEncoding.TwosComplement);

    /// <summary>
    /// Profiles a layer in either encoding. In sign-magnitude a flipped sign moves a weight by 2m, so the sign
    /// plane's term is the mean of 4m²·π(1 − π): it is kept as v̄ = mean of (m / 2^{b−1})²·π(1 − π) with the plane
    /// weighing 4^b (DESIGN 3.4, from Var[v~] = Var[m~] + 4π_σ(1 − π_σ)E[m~]² with E[m~] ≈ m).
    /// </summary>
    public static LayerProfile FromCodes(string name, IReadOnlyList<int> codes, double scale, double sensitivity, int bits, FlipProbabilities flips, CodeEncoding encoding)
    {
        if (codes is null) throw new ArgumentNullException(nameof(codes));
        if (codes.Count == 0) throw new ArgumentException("A layer holds at least one weight.", nameof(codes));
        return FromHistogram(name, CodeHistogram.Of(codes, bits), scale, sensitivity, bits, flips, encoding);
    }

    /// <summary>
    /// <see cref="FromCodes(string, IReadOnlyList{int}, double, double, int, FlipProbabilities, CodeEncoding)"/> of a layer
    /// given as its histogram: the averages are sums over distinct codes, so the profile does not depend on the order
    /// the codes are kept in.
    /// </summary>
    public static LayerProfile FromHistogram(string name, CodeHistogram histogram, double scale, double sensitivity, int bits, FlipProbabilities flips, CodeEncoding encoding)
    {
        if (histogram is null) throw new ArgumentNullException(nameof(histogram));
        if (histogram.Total == 0) throw new ArgumentException("A layer holds at least one weight.", nameof(histogram));
        StoredCode.ValidateBits(bits);
        var planes = new double[bits];
        if (encoding == CodeEncoding.SignMagnitude)
        {
            double top = 1 << (bits - 1);
            for (int v = 0; v < histogram.Values.Count; v++)
            {
                int code = histogram.Values[v];
                int pattern = CodeEncodings.ToPattern(code, bits, encoding);
                for (int k = 0; k < bits; k++)
                {
                    bool one = (pattern >> k & 1) != 0;
                    double pi = flips.ReadsOne(one), variance = pi * (1 - pi);
                    planes[k] += histogram.Counts[v] * (k < bits - 1 ? variance : (code / top) * (code / top) * variance);
                }
            }
            for (int k = 0; k < bits; k++) planes[k] /= histogram.Total;
            return new LayerProfile(name, histogram.Total, scale, sensitivity, planes, encoding);
        }
        var ones = new long[bits];
        for (int v = 0; v < histogram.Values.Count; v++)
            for (int k = 0; k < bits; k++)
                if (StoredCode.BitIsSet(histogram.Values[v], k)) ones[k] += histogram.Counts[v];
        double varOne = flips.P10 * (1 - flips.P10), varZero = flips.P01 * (1 - flips.P01);   // π(1 − π) for a stored 1 and a stored 0
        for (int k = 0; k < bits; k++)
        {
            double shareOfOnes = (double)ones[k] / histogram.Total;
            planes[k] = shareOfOnes * varOne + (1 - shareOfOnes) * varZero;
        }
        return new LayerProfile(name, histogram.Total, scale, sensitivity, planes);
    }

    /// <summary>The layer's name.</summary>
    public string Name { get; }

    /// <summary>n_l.</summary>
    public long WeightCount { get; }

    /// <summary>s_l.</summary>
    public double Scale { get; }

    /// <summary>G_l.</summary>
    public double Sensitivity { get; }

    /// <summary>How the layer's codes are laid out.</summary>
    public CodeEncoding Encoding { get; }

    /// <summary>A plane's weight in D(m): w_k² of the encoding (in sign-magnitude the sign plane weighs 4^b, see <see cref="FromCodes(string, IReadOnlyList{int}, double, double, int, FlipProbabilities, CodeEncoding)"/>).</summary>
    public double PlaneWeightSquared(int plane) => Encoding == CodeEncoding.SignMagnitude
        ? (plane == Bits - 1 ? Math.Pow(4, Bits) : Math.Pow(4, plane))
        : Math.Pow(StoredCode.BitWeight(plane, Bits), 2);

    /// <summary>The bit width b of the layer's codes.</summary>
    public int Bits => _planeFlipVariance.Length;

    /// <summary>v̄_{l,k} for k = 0..b−1.</summary>
    public IReadOnlyList<double> PlaneFlipVariance => _planeFlipVariance;

    /// <summary>
    /// This layer's term of D(m): G_l·n_l·s_l²·Σ_{k unprotected} w_k²·v̄_{l,k}, with the top
    /// <paramref name="protectedCount"/> planes protected.
    /// </summary>
    public double Distortion(int protectedCount) => Sensitivity * WeightCount * Scale * Scale * FlipVariance(protectedCount);

    /// <summary>
    /// The variance one weight's code takes from flips with the top <paramref name="protectedCount"/> planes
    /// protected, in squared code steps: Σ_{k unprotected} w_k²·v̄_{l,k}, averaged over the layer.
    /// </summary>
    public double FlipVariance(int protectedCount)
    {
        if (protectedCount < 0 || protectedCount > Bits)
            throw new ArgumentOutOfRangeException(nameof(protectedCount), protectedCount, $"Between 0 and {Bits} planes can be protected.");
        double sum = 0;
        for (int k = 0; k < Bits - protectedCount; k++) sum += PlaneWeightSquared(k) * _planeFlipVariance[k];
        return sum;
    }

    /// <summary>This layer's term of the quantization noise floor: G_l·n_l·s_l²/12.</summary>
    public double QuantizationNoise => Sensitivity * WeightCount * Scale * Scale / 12;
}
