using System;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Moments;
using Qtaml.Physics;
using Qtaml.Tac;

namespace Qtaml.Generators.Planning;

/// <summary>A plan as an allocator makes it: the encoding kept, its protection problem and the protected planes.</summary>
internal sealed record PlanDesign(CodeEncoding Encoding, ProtectionProblem Problem, ProtectionPlan Protection);

/// <summary>
/// Everything about a network's planning that does not depend on the budget: the weights quantized symmetrically
/// per output channel, and a <see cref="PlanCore"/> per encoding considered (the planning code <c>QuantizedModel</c>
/// runs too). It designs the plan of any allocator and budget, so the build's own plan and the forecast's search over
/// budgets come from the same code.
/// </summary>
internal sealed class PlanDesigner
{
    private readonly PlanCore _twosComplementCore;
    private readonly PlanCore? _signMagnitudeCore;
    private readonly ProtectionProblem _twosComplement;
    private readonly ProtectionProblem? _signMagnitude;
    private readonly CodeEncoding? _forced;

    /// <param name="encoding">The encoding asked for, or null for the one whose plan predicts less distortion.</param>
    /// <param name="worstRead">The flips of the worst moment a read meets (a node's window end), at which <see cref="WeightErrorVariance"/> judges a plan; default <paramref name="flips"/>.</param>
    /// <param name="readAfterRefresh">Whether the codes are also read with no flip yet (a node's retention window starts at each refresh): then the correction does no harm to that read (<see cref="MeanCorrection.FreshShiftBound"/>). A static flip probability has no such read.</param>
    public PlanDesigner(WeightLayer[] layers, double[] sensitivity, int bits, FlipProbabilities flips, CodeEncoding? encoding, FlipProbabilities? worstRead = null, bool readAfterRefresh = false)
    {
        WorstRead = worstRead ?? flips;
        Layers = layers;
        Sensitivity = sensitivity;
        Bits = bits;
        Flips = flips;
        _forced = encoding;
        int maxCode = StoredCode.MaxCode(bits);
        IntendedCodes = new int[layers.Length][];
        ChannelScales = new float[layers.Length][];
        LayerScales = new double[layers.Length];
        for (int l = 0; l < layers.Length; l++)
        {
            (IntendedCodes[l], ChannelScales[l]) = ModelPlanner.Quantize(layers[l], maxCode);
            // The layer scale s_l of D(m): the root mean square of its channel scales, so n_l·s_l² = Σ_c n_c·s_c².
            LayerScales[l] = Math.Max(Math.Sqrt(ChannelScales[l].Average(s => (double)s * s)), 1e-30);
        }
        WeightCounts = layers.Select(layer => (long)layer.Weights.Length).ToArray();
        string[] names = layers.Select(layer => layer.Name).ToArray();
        CodeHistogram[] histograms = IntendedCodes.Select(codes => CodeHistogram.Of(codes, bits)).ToArray();
        PlanCore Core(CodeEncoding e) => new(names, histograms, LayerScales, sensitivity, bits, e);
        _twosComplementCore = Core(CodeEncoding.TwosComplement);
        _twosComplement = _twosComplementCore.Problem(flips);
        FreshShiftBound = readAfterRefresh ? _twosComplementCore.RefreshedShiftBound : double.PositiveInfinity;
        // Sign-magnitude's correction searches every code: considered automatically up to 8 bits, on request up to 10.
        if (encoding == CodeEncoding.SignMagnitude || (encoding is null && bits <= 8 && flips.P10 + flips.P01 > 0))
        {
            _signMagnitudeCore = Core(CodeEncoding.SignMagnitude);
            _signMagnitude = _signMagnitudeCore.Problem(flips);
        }
    }

    public WeightLayer[] Layers { get; }
    public double[] Sensitivity { get; }
    public int Bits { get; }
    /// <summary>The flips the stored codes are compensated for.</summary>
    public FlipProbabilities Flips { get; }

    /// <summary>The flips of the worst read: the codes compensated for <see cref="Flips"/> are judged here.</summary>
    public FlipProbabilities WorstRead { get; }

    /// <summary>Per layer, the intended codes, row-major like the weights.</summary>
    public int[][] IntendedCodes { get; }

    /// <summary>Per layer, the quantization scale of each output channel.</summary>
    public float[][] ChannelScales { get; }

    /// <summary>Per layer, n_l: its number of weights.</summary>
    public long[] WeightCounts { get; }

    /// <summary>The most a layer's stored codes may move from the intended ones, read before any flip (mean squared code steps); infinity for a static flip probability.</summary>
    public double FreshShiftBound { get; }

    /// <summary>Per layer, s_l of D(m): the root mean square of its channel scales (what a runtime plan profiles with too).</summary>
    public double[] LayerScales { get; }

    /// <summary>
    /// Per weight layer, the mean squared error of one weight under a plan, in squared weight units, at the worst read
    /// (<see cref="WorstRead"/>): the read-out's variance and its bias (the codes are stored and scaled for the
    /// operating point, so at a later moment of a window their mean drifts), from the codes actually stored, plus
    /// quantization's s²/12. Exact per weight (DESIGN 3.4), averaged over the layer.
    /// </summary>
    public double[] WeightErrorVariance(PlanDesign design) =>
        Enumerable.Range(0, Layers.Length).Select(l => LayerErrorVariance(design.Encoding, l, design.Protection.ProtectedPlanes[l])).ToArray();

    private readonly System.Collections.Generic.Dictionary<(CodeEncoding, int, int), double> _errorVariance = new();
    private readonly System.Collections.Generic.Dictionary<(CodeEncoding, int, int), CorrectedLayer> _corrected = new();

    /// <summary>Layer <paramref name="layer"/>'s stored codes and dequantization with its top <paramref name="protectedPlanes"/> planes protected, as the build makes them.</summary>
    public CorrectedLayer Corrected(CodeEncoding encoding, int layer, int protectedPlanes)
    {
        lock (_corrected)
            if (_corrected.TryGetValue((encoding, layer, protectedPlanes), out CorrectedLayer? known)) return known;
        PlanCore core = encoding == CodeEncoding.SignMagnitude
            ? _signMagnitudeCore ?? throw new InvalidOperationException("This designer does not consider sign-magnitude codes.")
            : _twosComplementCore;
        CorrectedLayer corrected = core.Correct(layer, protectedPlanes, Flips, FreshShiftBound).For(IntendedCodes[layer]);
        lock (_corrected) _corrected[(encoding, layer, protectedPlanes)] = corrected;
        return corrected;
    }

    private double LayerErrorVariance(CodeEncoding encoding, int layer, int protectedPlanes)
    {
        lock (_errorVariance)
            if (_errorVariance.TryGetValue((encoding, layer, protectedPlanes), out double known)) return known;
        int[] intended = IntendedCodes[layer];
        float[] scales = ChannelScales[layer];
        CorrectedLayer corrected = Corrected(encoding, layer, protectedPlanes);
        int mask = StoredCode.TopPlanesMask(Bits, protectedPlanes), perChannel = intended.Length / scales.Length;
        // The read-out's moments depend only on the stored code: each distinct code's once.
        var moments = new System.Collections.Generic.Dictionary<int, ErrorMoment>();
        double sum = 0;
        for (int i = 0; i < intended.Length; i++)
        {
            int stored = corrected.StoredCodes[i];
            if (!moments.TryGetValue(stored, out ErrorMoment read)) moments[stored] = read = ErrorMoments.Read(stored, Bits, mask, WorstRead, encoding);
            double step = scales[i / perChannel] * corrected.ScaleFactor;
            double bias = step * (read.Mean + corrected.CodeOffset) - scales[i / perChannel] * intended[i];
            sum += step * step * read.Variance + bias * bias + scales[i / perChannel] * scales[i / perChannel] / 12.0;
        }
        double variance = sum / intended.Length;
        lock (_errorVariance) _errorVariance[(encoding, layer, protectedPlanes)] = variance;
        return variance;
    }

    /// <summary>
    /// The plan of <paramref name="allocator"/> within <paramref name="budget"/> bits per weight: in the encoding asked
    /// for, else in the one whose plan predicts less distortion (two's complement on a tie, such as a build with no flips).
    /// </summary>
    public PlanDesign Design(Allocator allocator, double budget)
    {
        var design = new PlanDesign(CodeEncoding.TwosComplement, _twosComplement, _twosComplement.Allocate(allocator, budget));
        if (_signMagnitude is null) return design;
        var signMagnitude = new PlanDesign(CodeEncoding.SignMagnitude, _signMagnitude, _signMagnitude.Allocate(allocator, budget));
        return _forced == CodeEncoding.SignMagnitude || signMagnitude.Protection.PredictedDistortion < design.Protection.PredictedDistortion * (1 - 1e-9) ? signMagnitude : design;
    }
}
