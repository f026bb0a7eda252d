using System;
using Qtaml.Faults;

namespace Qtaml.Generators.Calibration;

/// <summary>
/// Predicts the share of calibration inputs whose decision survives a plan's faults (DESIGN 3.5.5). A plan leaves
/// every weight of layer l with an independent error of variance v_l (the unprotected planes' flip variance, plus
/// quantization's s²/12). Through the network's Jacobian J_l(x) that adds to input x's class scores an error of
/// covariance Σ_l v_l·J_l(x)J_l(x)ᵀ, Gaussian by the central limit theorem (each score sums many weights' errors).
/// <see cref="CalibrationProfile"/> measures J_lJ_lᵀ exactly for each input's tracked classes (its decision and
/// closest rivals), so for a plan the covariance C(x) is summed, factored once (C = LLᵀ) and drawn as
/// <code>
///   e(x) = L(x)·z,   z ~ N(0, I)
/// </code>
/// and the decision survives a draw when no rival's score plus its error passes the decision's. The draws z are
/// fixed by a seed and shared by every plan (common random numbers), so comparing two plans or searching for a
/// budget sees their difference, not fresh noise.
/// </summary>
internal sealed class AgreementModel
{
    /// <summary>Error draws per calibration input.</summary>
    public const int DrawsPerInput = 32;

    private readonly double[][] _clean;     // [decision][tracked class]: scores, the decision first
    private readonly double[][][] _grams;   // [decision][layer][i·tracked + j]: J_lJ_lᵀ over the tracked classes
    private readonly double[][] _draws;     // [decision][draw·tracked + i]
    private readonly int _tracked, _perInput;

    /// <param name="clean">Each tracked decision's clean scores of its tracked classes, the decision first; an input's decisions consecutive.</param>
    /// <param name="grams">Each tracked decision's J_lJ_lᵀ per weight layer over its tracked classes, row-major.</param>
    /// <param name="perInput">The tracked decisions of each input (one for a classifier).</param>
    public AgreementModel(double[][] clean, double[][][] grams, int perInput, ulong seed)
    {
        _clean = clean;
        _grams = grams;
        _perInput = Math.Max(1, perInput);
        _tracked = clean.Length == 0 ? 0 : clean[0].Length;
        Layers = grams.Length == 0 ? 0 : grams[0].Length;
        var random = new SplitMix64(seed);
        _draws = new double[clean.Length][];
        for (int s = 0; s < clean.Length; s++)
        {
            _draws[s] = new double[DrawsPerInput * _tracked];
            for (int i = 0; i < _draws[s].Length; i++) _draws[s][i] = CalibrationProfile.Gaussian(ref random);
        }
    }

    /// <summary>The calibration inputs.</summary>
    public int Inputs => _clean.Length / _perInput;

    /// <summary>The decisions followed: <see cref="Inputs"/> times the positions tracked per input.</summary>
    public int Decisions => _clean.Length;

    /// <summary>The weight layers.</summary>
    public int Layers { get; }

    /// <summary>
    /// The predicted share of decisions that survive, for weight-error variances <paramref name="variance"/>
    /// (one per weight layer, in squared weight units), each multiplied by <paramref name="scale"/> (the nonlinearity
    /// fitted by <see cref="FaultSimulation"/>; 1 for the plain Gaussian model), over the first
    /// <paramref name="inputs"/> inputs (all by default).
    /// </summary>
    public double Predict(double[] variance, double scale, int? inputs = null)
    {
        if (variance.Length != Layers) throw new ArgumentException("One variance per weight layer.", nameof(variance));
        int count = (int)Math.Min(inputs is int first ? (long)first * _perInput : _clean.Length, _clean.Length), n = _tracked;
        if (count == 0) return 1;
        var covariance = new double[n * n];
        var factor = new double[n * n];
        var noisy = new double[n];
        long kept = 0;
        for (int s = 0; s < count; s++)
        {
            Array.Clear(covariance, 0, covariance.Length);
            for (int l = 0; l < Layers; l++)
            {
                double v = Math.Max(variance[l] * scale, 0);
                if (v == 0) continue;
                double[] gram = _grams[s][l];
                for (int i = 0; i < covariance.Length; i++) covariance[i] += v * gram[i];
            }
            Cholesky(covariance, factor, n);
            double[] z = _draws[s], clean = _clean[s];
            for (int t = 0; t < DrawsPerInput; t++)
            {
                for (int i = 0; i < n; i++)
                {
                    double e = 0;
                    for (int j = 0; j <= i; j++) e += factor[i * n + j] * z[t * n + j];
                    noisy[i] = clean[i] + e;
                }
                bool survives = true;
                for (int i = 1; i < n && survives; i++) survives = noisy[i] <= noisy[0];
                if (survives) kept++;
            }
        }
        return (double)kept / ((long)count * DrawsPerInput);
    }

    /// <summary>
    /// L with LLᵀ = <paramref name="a"/> (n × n, symmetric positive semi-definite), lower triangular, row-major. A
    /// pivot at rounding level (a direction the errors do not take) leaves its column zero rather than failing.
    /// </summary>
    internal static void Cholesky(double[] a, double[] l, int n)
    {
        Array.Clear(l, 0, l.Length);
        double largest = 0;
        for (int i = 0; i < n; i++) largest = Math.Max(largest, a[i * n + i]);
        double floor = largest * 1e-12;
        for (int j = 0; j < n; j++)
        {
            double d = a[j * n + j];
            for (int k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
            if (!(d > floor)) continue;
            double pivot = Math.Sqrt(d);
            l[j * n + j] = pivot;
            for (int i = j + 1; i < n; i++)
            {
                double sum = a[i * n + j];
                for (int k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
                l[i * n + j] = sum / pivot;
            }
        }
    }
}
