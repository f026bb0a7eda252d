using System;
using System.Linq;
using Qtaml.Faults;

namespace Qtaml.Generators.Calibration;

/// <summary>
/// Predicts the share of calibration inputs whose decision survives a plan's faults (DESIGN 3.5.5). A plan leaves
/// every weight of layer l with an independent error of variance v_l (the unprotected planes' flip variance, plus
/// quantization's s²/12). Through the network's Jacobian J_l(x) that adds to input x's decision vector an error of
/// covariance Σ_l v_l·J_l(x)J_l(x)ᵀ, Gaussian by the central limit theorem (each output sums many weights' errors).
/// The probes of <see cref="CalibrationProfile"/> give, per layer, P responses r_{l,p}(x) = J_l(x)·δ_p for unit
/// noise δ_p, whose outer products average to J_lJ_lᵀ; so the error is drawn as
/// <code>
///   e(x) = Σ_l √(v_l / P) · Σ_p z_{l,p} · r_{l,p}(x),   z ~ N(0, 1)
/// </code>
/// and the decision survives a draw when the arg max of y(x) + e(x) is still the clean one: the input's margin
/// between its two best classes against the error's spread along that direction, and every other class too.
/// The draws are fixed by a seed and shared by every plan (common random numbers), so comparing two plans or
/// searching for a budget sees their difference, not fresh noise.
/// </summary>
internal sealed class AgreementModel
{
    /// <summary>Error draws per calibration input.</summary>
    public const int DrawsPerInput = 32;

    private readonly double[][] _clean;          // [input][class]
    private readonly int[] _decision;            // [input]: the clean arg max
    private readonly double[][][][] _responses;  // [layer][probe][input][class]
    private readonly double[][] _draws;          // [input · draws + draw][layer · probes + probe]

    /// <param name="clean">Each input's clean decision vector.</param>
    /// <param name="decisions">Each input's clean decision, the arg max of its vector.</param>
    public AgreementModel(double[][] clean, int[] decisions, double[][][][] responses, ulong seed)
    {
        _clean = clean;
        _responses = responses;
        _decision = decisions;
        int layers = responses.Length, probes = layers == 0 ? 0 : responses[0].Length;
        var random = new SplitMix64(seed);
        _draws = new double[clean.Length * DrawsPerInput][];
        for (int d = 0; d < _draws.Length; d++)
        {
            _draws[d] = new double[layers * probes];
            for (int i = 0; i < _draws[d].Length; i++) _draws[d][i] = CalibrationProfile.Gaussian(ref random);
        }
    }

    /// <summary>The calibration inputs.</summary>
    public int Inputs => _clean.Length;

    /// <summary>
    /// The predicted share of inputs whose decision survives, for weight-error variances <paramref name="variance"/>
    /// (one per weight layer, in squared weight units), each multiplied by <paramref name="scale"/> (the nonlinearity
    /// fitted by <see cref="FaultSimulation"/>; 1 for the plain Gaussian model).
    /// </summary>
    public double Predict(double[] variance, double scale)
    {
        int layers = _responses.Length;
        if (variance.Length != layers) throw new ArgumentException("One variance per weight layer.", nameof(variance));
        int probes = layers == 0 ? 0 : _responses[0].Length;
        var amplitude = variance.Select(v => Math.Sqrt(Math.Max(v * scale, 0) / Math.Max(probes, 1))).ToArray();
        int width = _clean.Length == 0 ? 0 : _clean[0].Length;
        var noisy = new double[width];
        long kept = 0;
        for (int s = 0; s < _clean.Length; s++)
            for (int t = 0; t < DrawsPerInput; t++)
            {
                double[] z = _draws[s * DrawsPerInput + t];
                Array.Copy(_clean[s], noisy, width);
                for (int l = 0; l < layers; l++)
                {
                    if (amplitude[l] == 0) continue;
                    for (int p = 0; p < probes; p++)
                    {
                        double a = amplitude[l] * z[l * probes + p];
                        double[] r = _responses[l][p][s];
                        for (int j = 0; j < width; j++) noisy[j] += a * r[j];
                    }
                }
                if (ArgMax(noisy) == _decision[s]) kept++;
            }
        return _clean.Length == 0 ? 1 : (double)kept / (_clean.Length * DrawsPerInput);
    }

    public static int ArgMax(double[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
