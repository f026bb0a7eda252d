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
/// needs one class, not one per point. The design, profiles and mean correction are <see cref="PlanCore"/>'s, the code the
/// build itself runs.
/// </summary>
/// <remarks>
/// The codes keep the class's encoding and order: a plan changes which planes are protected, what is stored and how it
/// is read back (<see cref="LayerDequantization"/>), not the layout. The class's own build is the plan
/// <c>CreateImage(Info's allocator, Info's budget, Info's compensated flips)</c>, bit for bit.
/// </remarks>
public sealed class QuantizedModel
{
    private readonly WeightImage _intended;
    private readonly PlanCore _core;

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
        var names = new string[layers];
        var histograms = new CodeHistogram[layers];
        for (int l = 0; l < layers; l++)
        {
            names[l] = intendedCodes.Layers[l].Name;
            histograms[l] = CodeHistogram.Of(IntendedCodes(l), intendedCodes.Bits);
        }
        _core = new PlanCore(names, histograms, layerScales, sensitivities, intendedCodes.Bits, intendedCodes.Encoding);
        FreshShiftBound = readAfterRefresh ? _core.RefreshedShiftBound : double.PositiveInfinity;
    }

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
    public IReadOnlyList<double> LayerScales => _core.LayerScales;

    /// <summary>G_l per layer, as the build used them.</summary>
    public IReadOnlyList<double> Sensitivities => _core.Sensitivities;

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
    public ProtectionProblem Problem(FlipProbabilities flips) => _core.Problem(flips);

    /// <summary>The plan <paramref name="allocator"/> makes within <paramref name="budget"/> protected bits per weight under <paramref name="flips"/>.</summary>
    public ProtectionPlan Design(Allocator allocator, double budget, FlipProbabilities flips) => _core.Design(allocator, budget, flips);

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
        if (plan.Bits != Bits || plan.ProtectedPlanes.Count != _core.LayerCount)
            throw new ArgumentException($"The plan is for {plan.ProtectedPlanes.Count} layers of {plan.Bits}-bit codes; this model has {_core.LayerCount} layers of {Bits}-bit codes.", nameof(plan));
        double bound = readAfterRefresh switch { true => _core.RefreshedShiftBound, false => double.PositiveInfinity, null => FreshShiftBound };
        WeightImage image = _intended.Clone();
        for (int l = 0; l < _core.LayerCount; l++)
        {
            CorrectedCodes corrected = _core.Correct(l, plan.ProtectedPlanes[l], flips, bound);
            int count = _intended.Layers[l].Count;
            for (int i = 0; i < count; i++) image.SetCode(l, i, corrected.StoredFor(_intended.GetCode(l, i)));
            image.SetDequantization(l, new LayerDequantization((float)corrected.ScaleFactor, (float)corrected.CodeOffset));
        }
        return image;
    }

    /// <summary>The image of the plan <paramref name="allocator"/> makes within <paramref name="budget"/> under <paramref name="flips"/>.</summary>
    public WeightImage CreateImage(Allocator allocator, double budget, FlipProbabilities flips, bool? readAfterRefresh = null) => CreateImage(Design(allocator, budget, flips), flips, readAfterRefresh);
}
