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
    public QuantizedModel(WeightImage intendedCodes, IReadOnlyList<double> layerScales, IReadOnlyList<double> sensitivities)
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
    }

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
    public WeightImage CreateImage(ProtectionPlan plan, FlipProbabilities flips)
    {
        if (plan is null) throw new ArgumentNullException(nameof(plan));
        if (plan.Bits != Bits || plan.ProtectedPlanes.Count != _layerScales.Length)
            throw new ArgumentException($"The plan is for {plan.ProtectedPlanes.Count} layers of {plan.Bits}-bit codes; this model has {_layerScales.Length} layers of {Bits}-bit codes.", nameof(plan));
        WeightImage image = _intended.Clone();
        for (int l = 0; l < _layerScales.Length; l++)
        {
            CorrectedLayer corrected = MeanCorrection.ApplyDoingNoHarm(IntendedCodes(l), Bits, plan.ProtectedPlanes[l], flips, Encoding);
            IReadOnlyList<int> stored = corrected.StoredCodes;
            for (int i = 0; i < stored.Count; i++) image.SetCode(l, i, stored[i]);
            image.SetDequantization(l, new LayerDequantization((float)corrected.ScaleFactor, (float)corrected.CodeOffset));
        }
        return image;
    }

    /// <summary>The image of the plan <paramref name="allocator"/> makes within <paramref name="budget"/> under <paramref name="flips"/>.</summary>
    public WeightImage CreateImage(Allocator allocator, double budget, FlipProbabilities flips) => CreateImage(Design(allocator, budget, flips), flips);
}
