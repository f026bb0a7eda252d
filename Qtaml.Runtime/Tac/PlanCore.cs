using System;
using System.Collections.Generic;
using Qtaml.Moments;
using Qtaml.Physics;

namespace Qtaml.Tac;

/// <summary>
/// The one implementation of planning for a quantized network in one encoding, used by the build (the generator
/// compiles this file in) and by <c>QuantizedModel</c> at run time: each layer profiled under a flip model into TAC's
/// allocation problem, a plan designed by any allocator within a budget, and each layer's stored codes from mean
/// correction limited so a read just after a refresh does no harm (<see cref="MeanCorrection.FreshShiftBound"/>).
/// </summary>
/// <remarks>
/// A layer enters only as its <see cref="CodeHistogram"/>, its scale s_l and its sensitivity G_l, so the build (codes
/// in the weights' order) and a runtime model (codes in the image's order) that hold the same codes plan the same,
/// bit for bit, by construction.
/// </remarks>
public sealed class PlanCore
{
    private readonly string[] _names;
    private readonly CodeHistogram[] _layers;
    private readonly double[] _scales;
    private readonly double[] _sensitivities;
    private readonly object _gate = new();
    private (FlipProbabilities Flips, ProtectionProblem Problem)? _lastProblem;

    /// <param name="names">Each layer's name, for reports.</param>
    /// <param name="layers">Each layer's intended codes, as a histogram.</param>
    /// <param name="layerScales">s_l per layer: the root mean square of its channels' quantization scales (finite, greater than zero).</param>
    /// <param name="sensitivities">G_l per layer (finite, zero or more).</param>
    /// <param name="bits">The code width b.</param>
    /// <param name="encoding">How codes are laid out in their bits.</param>
    public PlanCore(IReadOnlyList<string> names, IReadOnlyList<CodeHistogram> layers, IReadOnlyList<double> layerScales, IReadOnlyList<double> sensitivities, int bits, CodeEncoding encoding)
    {
        if (names is null) throw new ArgumentNullException(nameof(names));
        if (layers is null) throw new ArgumentNullException(nameof(layers));
        if (layerScales is null) throw new ArgumentNullException(nameof(layerScales));
        if (sensitivities is null) throw new ArgumentNullException(nameof(sensitivities));
        StoredCode.ValidateBits(bits);
        int count = layers.Count;
        if (names.Count != count || layerScales.Count != count || sensitivities.Count != count)
            throw new ArgumentException($"There are {count} layers, but {names.Count} names, {layerScales.Count} scales and {sensitivities.Count} sensitivities; give one of each per layer.");
        _names = new string[count];
        _layers = new CodeHistogram[count];
        _scales = new double[count];
        _sensitivities = new double[count];
        var weights = new long[count];
        for (int l = 0; l < count; l++)
        {
            if (!(layerScales[l] > 0) || double.IsInfinity(layerScales[l])) throw new ArgumentOutOfRangeException(nameof(layerScales), layerScales[l], $"Layer {l}'s scale must be finite and greater than zero.");
            if (!(sensitivities[l] >= 0) || double.IsInfinity(sensitivities[l])) throw new ArgumentOutOfRangeException(nameof(sensitivities), sensitivities[l], $"Layer {l}'s sensitivity must be finite, zero or more.");
            _names[l] = names[l] ?? string.Empty;
            _layers[l] = layers[l] ?? throw new ArgumentNullException(nameof(layers));
            _scales[l] = layerScales[l];
            _sensitivities[l] = sensitivities[l];
            weights[l] = layers[l].Total;
        }
        Bits = bits;
        Encoding = encoding;
        RefreshedShiftBound = MeanCorrection.FreshShiftBound(_sensitivities, weights, _scales);
    }

    /// <summary>The code width b.</summary>
    public int Bits { get; }

    /// <summary>How codes are laid out in their bits.</summary>
    public CodeEncoding Encoding { get; }

    /// <summary>The number of weight layers.</summary>
    public int LayerCount => _layers.Length;

    /// <summary>Each layer's intended codes, as a histogram.</summary>
    public IReadOnlyList<CodeHistogram> Layers => _layers;

    /// <summary>s_l per layer.</summary>
    public IReadOnlyList<double> LayerScales => _scales;

    /// <summary>G_l per layer.</summary>
    public IReadOnlyList<double> Sensitivities => _sensitivities;

    /// <summary>
    /// The most mean correction may move a layer's codes when they are also read with no flip yet (a node's window starts
    /// at each refresh): <see cref="MeanCorrection.FreshShiftBound"/> of these layers.
    /// </summary>
    public double RefreshedShiftBound { get; }

    /// <summary>The allocation problem under <paramref name="flips"/> (the flips the stored codes are compensated for); the last one is kept.</summary>
    public ProtectionProblem Problem(FlipProbabilities flips)
    {
        lock (_gate)
            if (_lastProblem is { } last && last.Flips.Equals(flips)) return last.Problem;
        var profiles = new LayerProfile[_layers.Length];
        for (int l = 0; l < profiles.Length; l++)
            profiles[l] = LayerProfile.FromHistogram(_names[l], _layers[l], _scales[l], _sensitivities[l], Bits, flips, Encoding);
        var problem = new ProtectionProblem(Bits, profiles);
        lock (_gate) _lastProblem = (flips, problem);
        return problem;
    }

    /// <summary>The plan <paramref name="allocator"/> makes within <paramref name="budget"/> protected bits per weight under <paramref name="flips"/>.</summary>
    public ProtectionPlan Design(Allocator allocator, double budget, FlipProbabilities flips) => Problem(flips).Allocate(allocator, budget);

    /// <summary>
    /// Layer <paramref name="layer"/>'s stored codes with its top <paramref name="protectedPlanes"/> planes protected,
    /// compensated for <paramref name="flips"/>, moved at most <paramref name="maxFreshShiftSquared"/> read before any
    /// flip (<see cref="RefreshedShiftBound"/> for a node's window, infinity for a static flip probability).
    /// </summary>
    public CorrectedCodes Correct(int layer, int protectedPlanes, FlipProbabilities flips, double maxFreshShiftSquared) =>
        MeanCorrection.CorrectDoingNoHarm(_layers[layer], Bits, protectedPlanes, flips, Encoding, maxFreshShiftSquared);
}
