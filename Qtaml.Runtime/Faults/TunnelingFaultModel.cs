using System;
using System.Collections.Generic;
using Qtaml.Moments;
using Qtaml.Physics;
using Qtaml.Tac;

namespace Qtaml.Faults;

/// <summary>
/// The tunneling fault model on the device: flips the unprotected bits of a <see cref="WeightImage"/>
/// the way leaky storage at a node would over one retention window.
/// </summary>
/// <example>
/// <code>
/// var image = Digits.CreateWeightImage();
/// TunnelingFaultModel.ForNode("2nm").Inject(image, Digits.Info.Protection, seed: 7);
/// </code>
/// </example>
public sealed class TunnelingFaultModel
{
    /// <summary>A fault model with explicit flip probabilities.</summary>
    public TunnelingFaultModel(FlipProbabilities flips) => Flips = flips;

    /// <summary>p10 and p01.</summary>
    public FlipProbabilities Flips { get; }

    /// <summary>The fault model of a named node preset ("7nm", "5nm", "3nm", "2nm", "A14").</summary>
    public static TunnelingFaultModel ForNode(string node) => ForNode(NodePresets.Get(node));

    /// <summary>The fault model of a preset, possibly one with overridden constants.</summary>
    public static TunnelingFaultModel ForNode(NodePreset node)
    {
        if (node is null) throw new ArgumentNullException(nameof(node));
        return new TunnelingFaultModel(node.FlipProbabilities);
    }

    /// <summary>The fault model of a named node preset at a moment of its retention window (0: just refreshed, 1: the end).</summary>
    public static TunnelingFaultModel ForNode(string node, double fractionOfWindow) => new(NodePresets.Get(node).FlipProbabilitiesAt(fractionOfWindow));

    /// <summary>
    /// The faults a compiled model meets: its node's at the given moment of the retention window (0: just refreshed,
    /// 1: the end, the default), or, for a build with an explicit flip probability, that static probability.
    /// </summary>
    public static TunnelingFaultModel ForModel(ModelInfo info, double fractionOfWindow = 1)
    {
        if (info is null) throw new ArgumentNullException(nameof(info));
        var end = new FlipProbabilities(info.WindowEndP10, info.WindowEndP01);
        return new(info.HasWindow ? RetentionModel.AtMoment(end, fractionOfWindow) : end);
    }

    /// <summary>A symmetric model, p10 = p01 = <paramref name="pFlip"/>, as in the paper's experiments.</summary>
    public static TunnelingFaultModel Symmetric(double pFlip) => new(FlipProbabilities.Symmetric(pFlip));

    /// <summary>Injects faults, protecting the top planes of each layer that <paramref name="plan"/> protects.</summary>
    /// <returns>The number of bits flipped.</returns>
    public long Inject(WeightImage image, ProtectionPlan plan, ulong seed)
    {
        if (plan is null) throw new ArgumentNullException(nameof(plan));
        if (image is not null && plan.Bits != image.Bits)
            throw new ArgumentException($"The plan is for {plan.Bits}-bit codes but the image stores {image.Bits}-bit codes; use the plan made for this model.", nameof(plan));
        return Inject(image!, plan.ProtectedPlanes, seed);
    }

    /// <summary>Injects faults; <paramref name="protectedPlanes"/>[l] top planes of layer l never flip.</summary>
    /// <param name="image">The stored weights; changed in place.</param>
    /// <param name="protectedPlanes">The number of protected top planes per layer, each in 0..b.</param>
    /// <param name="seed">The same seed gives the same faults, on any machine and core count.</param>
    /// <returns>The number of bits flipped.</returns>
    public long Inject(WeightImage image, IReadOnlyList<int> protectedPlanes, ulong seed)
    {
        if (image is null) throw new ArgumentNullException(nameof(image));
        if (protectedPlanes is null) throw new ArgumentNullException(nameof(protectedPlanes));
        if (protectedPlanes.Count != image.Layers.Count)
            throw new ArgumentException($"The protection names {protectedPlanes.Count} layers but the image holds {image.Layers.Count}; give one entry per layer.", nameof(protectedPlanes));

        long flipped = 0;
        for (int layer = 0; layer < image.Layers.Count; layer++)
        {
            int m = protectedPlanes[layer];
            if (m < 0 || m > image.Bits)
                throw new ArgumentOutOfRangeException(nameof(protectedPlanes), m, $"Layer {layer} protects {m} planes; between 0 and {image.Bits} are possible.");
            int allowed = ((1 << image.Bits) - 1) & ~StoredCode.TopPlanesMask(image.Bits, m);
            WeightSegment segment = image.Layers[layer];
            flipped += BitFlipper.Flip(image.PaddedSegment(layer), segment.ByteLength, Replicate(allowed, image.BytesPerCode), Flips,
                SplitMix64.Derive(seed, (ulong)layer));
        }
        return flipped;
    }

    /// <summary>Repeats a per-code plane mask across a 64-bit word of codes.</summary>
    private static ulong Replicate(int planes, int bytesPerCode) =>
        bytesPerCode == 1 ? 0x0101010101010101UL * (byte)planes : 0x0001000100010001UL * (ushort)planes;
}
