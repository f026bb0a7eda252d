using System;
using System.Collections.Generic;
using Qtaml.Faults;
using Qtaml.Moments;
using Qtaml.Physics;
using Qtaml.Tac;

namespace Qtaml.Plans;

/// <summary>
/// A compiled model's weights after quantization and before any protection: each layer's intended codes (laid out as
/// the model's weight image), its scale s_l and its sensitivity G_l, as the build computed them. From these the runtime
/// designs the plan of any allocator, budget and flip model exactly as a build would (the same profiles, allocators
/// and mean correction), and lays out its weight image, which the one compiled class runs: a whole fault campaign
/// needs one class, not one per point.
/// </summary>
/// <remarks>
/// The codes keep the class's encoding and order: a plan changes which planes are protected, what is stored and how it
/// is read back (<see cref="LayerDequantization"/>), not the layout. The class's own build is the plan
/// <c>CreateImage(Info's allocator, Info's budget, Info's compensated flips)</c>, bit for bit.
/// </remarks>
public sealed class QuantizedModel
{
    private readonly WeightImage _intended;
    private readonly double[] _layerScales;
    private readonly double[] _sensitivities;
    private readonly object _gate = new();
    private (FlipProbabilities Flips, ProtectionProblem Problem)? _lastProblem;

    /// <summary>Wraps what a generated class exposes as <c>Quantized</c>.</summary>
    /// <param name="intendedCodes">Each layer's intended codes, laid out as the model's weight images (its layout id and encoding).</param>
    /// <param name="layerScales">s_l per layer: the root mean square of its channels' quantization scales.</param>
    /// <param name="sensitivities">G_l per layer, as the build estimated or measured it.</param>
    /// <param name="readAfterRefresh">
    /// Whether the codes are also read with no flip yet, as a node's retention window starts at each refresh (a build
    /// for a node: true; for a static flip probability: false). Then every image's mean correction is limited so that
    /// read is within plain quantization's error of the plain codes (<see cref="MeanCorrection.FreshShiftBound"/>).
    /// </param>
    public QuantizedModel(WeightImage intendedCodes, IReadOnlyList<double> layerScales, IReadOnlyList<double> sensitivities, bool readAfterRefresh = false)
    {
        _intended = intendedCodes ?? throw new ArgumentNullException(nameof(intendedCodes));
        if (layerScales is null) throw new ArgumentNullException(nameof(layerScales));
        if (sensitivities is null) throw new ArgumentNullException(nameof(sensitivities));
        int layers = intendedCodes.Layers.Count;
        if (layerScales.Count != layers || sensitivities.Count != layers)
            throw new ArgumentException($"The image holds {layers} layers, but {layerScales.Count} scales and {sensitivities.Count} sensitivities were given; give one of each per layer.");
        _layerScales = new double[layers];
        _sensitivities = new double[layers];
        for (int l = 0; l < layers; l++)
        {
            if (!(layerScales[l] > 0) || double.IsInfinity(layerScales[l])) throw new ArgumentOutOfRangeException(nameof(layerScales), layerScales[l], $"Layer {l}'s scale must be finite and greater than zero.");
            if (!(sensitivities[l] >= 0) || double.IsInfinity(sensitivities[l])) throw new ArgumentOutOfRangeException(nameof(sensitivities), sensitivities[l], $"Layer {l}'s sensitivity must be finite, zero or more.");
            _layerScales[l] = layerScales[l];
            _sensitivities[l] = sensitivities[l];
        }
        var counts = new long[layers];
        for (int l = 0; l < layers; l++) counts[l] = intendedCodes.Layers[l].Count;
        _refreshedBound = MeanCorrection.FreshShiftBound(_sensitivities, counts, _layerScales);
        FreshShiftBound = readAfterRefresh ? _refreshedBound : double.PositiveInfinity;
    }

    private readonly double _refreshedBound;

    /// <summary>
    /// The most mean correction may move a layer's stored codes from the intended ones, read before any flip, as a mean
    /// squared difference in code steps (<see cref="MeanCorrection.FreshShiftBound"/>); infinity when the model is not
    /// read just after refreshes.
    /// </summary>
    public double FreshShiftBound { get; }

    /// <summary>The bit width b of every code.</summary>
    public int Bits => _intended.Bits;

    /// <summary>How codes are laid out in their bits (the class's encoding; every plan keeps it).</summary>
    public CodeEncoding Encoding => _intended.Encoding;

    /// <summary>The weight layers, in network order, with their sizes.</summary>
    public IReadOnlyList<WeightSegment> Layers => _intended.Layers;

    /// <summary>Σ n_l, the number of stored weights.</summary>
    public long WeightCount => _intended.WeightCount;

    /// <summary>s_l per layer.</summary>
    public IReadOnlyList<double> LayerScales => _layerScales;

    /// <summary>G_l per layer, as the build used them.</summary>
    public IReadOnlyList<double> Sensitivities => _sensitivities;

    /// <summary>Layer <paramref name="layer"/>'s intended codes, in the image's order.</summary>
    public int[] IntendedCodes(int layer)
    {
        var codes = new int[_intended.Layers[layer].Count];
        for (int i = 0; i < codes.Length; i++) codes[i] = _intended.GetCode(layer, i);
        return codes;
    }

    /// <summary>
    /// The allocation problem under <paramref name="flips"/> (the flips the stored codes are compensated for): every
    /// layer profiled from its intended codes, as the build profiles it. The last one is kept.
    /// </summary>
    public ProtectionProblem Problem(FlipProbabilities flips)
    {
        lock (_gate)
            if (_lastProblem is { } last && last.Flips.Equals(flips)) return last.Problem;
        var profiles = new LayerProfile[_layerScales.Length];
        for (int l = 0; l < profiles.Length; l++)
            profiles[l] = LayerProfile.FromCodes(_intended.Layers[l].Name, IntendedCodes(l), _layerScales[l], _sensitivities[l], Bits, flips, Encoding);
        var problem = new ProtectionProblem(Bits, profiles);
        lock (_gate) _lastProblem = (flips, problem);
        return problem;
    }

    /// <summary>The plan <paramref name="allocator"/> makes within <paramref name="budget"/> protected bits per weight under <paramref name="flips"/>.</summary>
    public ProtectionPlan Design(Allocator allocator, double budget, FlipProbabilities flips) => Problem(flips).Allocate(allocator, budget);

    /// <summary>
    /// The weight image of <paramref name="plan"/>, compensated for <paramref name="flips"/>: each layer's stored codes and
    /// dequantization from mean correction with its protected planes (DESIGN 3.5.1), in the model's layout.
    /// </summary>
    /// <param name="plan">The protected planes of every layer.</param>
    /// <param name="flips">The flips the codes are compensated for.</param>
    /// <param name="readAfterRefresh">
    /// Whether the codes are also read with no flip yet (a node's window): then the correction is limited to
    /// <see cref="MeanCorrection.FreshShiftBound"/> (from this model's sensitivities and scales). Null: as the class was
    /// built. False for a static flip probability, whose codes are always read with their flips.
    /// </param>
    public WeightImage CreateImage(ProtectionPlan plan, FlipProbabilities flips, bool? readAfterRefresh = null)
    {
        if (plan is null) throw new ArgumentNullException(nameof(plan));
        if (plan.Bits != Bits || plan.ProtectedPlanes.Count != _layerScales.Length)
            throw new ArgumentException($"The plan is for {plan.ProtectedPlanes.Count} layers of {plan.Bits}-bit codes; this model has {_layerScales.Length} layers of {Bits}-bit codes.", nameof(plan));
        double bound = readAfterRefresh switch { true => _refreshedBound, false => double.PositiveInfinity, null => FreshShiftBound };
        WeightImage image = _intended.Clone();
        for (int l = 0; l < _layerScales.Length; l++)
        {
            CorrectedLayer corrected = MeanCorrection.ApplyDoingNoHarm(IntendedCodes(l), Bits, plan.ProtectedPlanes[l], flips, Encoding, bound);
            IReadOnlyList<int> stored = corrected.StoredCodes;
            for (int i = 0; i < stored.Count; i++) image.SetCode(l, i, stored[i]);
            image.SetDequantization(l, new LayerDequantization((float)corrected.ScaleFactor, (float)corrected.CodeOffset));
        }
        return image;
    }

    /// <summary>The image of the plan <paramref name="allocator"/> makes within <paramref name="budget"/> under <paramref name="flips"/>.</summary>
    public WeightImage CreateImage(Allocator allocator, double budget, FlipProbabilities flips, bool? readAfterRefresh = null) => CreateImage(Design(allocator, budget, flips), flips, readAfterRefresh);
}
