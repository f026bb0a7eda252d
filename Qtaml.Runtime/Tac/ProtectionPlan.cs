using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Qtaml.Moments;

namespace Qtaml.Tac;

/// <summary>
/// How many top bit-planes of each layer get ECC, what that costs and what distortion it predicts.
/// </summary>
public sealed class ProtectionPlan
{
    private readonly int[] _protectedPlanes;

    internal ProtectionPlan(Allocator allocator, int bits, int[] protectedPlanes, long protectedBits, long totalWeights, double predictedDistortion)
    {
        Allocator = allocator;
        Bits = bits;
        _protectedPlanes = protectedPlanes;
        ProtectedBits = protectedBits;
        TotalWeights = totalWeights;
        PredictedDistortion = predictedDistortion;
    }

    /// <summary>The rule that made the plan.</summary>
    public Allocator Allocator { get; }

    /// <summary>The bit width of every stored code.</summary>
    public int Bits { get; }

    /// <summary>m_l: the number of top planes protected in each layer.</summary>
    public IReadOnlyList<int> ProtectedPlanes => _protectedPlanes;

    /// <summary>Σ m_l·n_l: how many stored bits ECC must cover.</summary>
    public long ProtectedBits { get; }

    /// <summary>Σ n_l.</summary>
    public long TotalWeights { get; }

    /// <summary>The budget the plan spends: protected bits per weight, averaged over the network.</summary>
    public double BitsPerWeight => (double)ProtectedBits / TotalWeights;

    /// <summary>D(m), the predicted output distortion.</summary>
    public double PredictedDistortion { get; }

    /// <summary>The mask of the protected planes of a layer (bit k set = plane k protected).</summary>
    public int ProtectedMask(int layer) => StoredCode.TopPlanesMask(Bits, _protectedPlanes[layer]);

    /// <summary>ECC check bits the plan needs, for a scheme with <paramref name="checkBitsPerProtectedBit"/> overhead (SEC-DED on 64 data bits: 8/64).</summary>
    public double EccCheckBits(double checkBitsPerProtectedBit) => ProtectedBits * checkBitsPerProtectedBit;

    /// <inheritdoc />
    public override string ToString() => string.Format(CultureInfo.InvariantCulture, "{0}: planes [{1}], {2:F3} bits/weight, D = {3:G4}",
        Allocator, string.Join(", ", _protectedPlanes.Select(m => m.ToString(CultureInfo.InvariantCulture))), BitsPerWeight, PredictedDistortion);
}

/// <summary>The rules that decide which bit-planes get ECC.</summary>
public enum Allocator
{
    /// <summary>No protection at all.</summary>
    None,

    /// <summary>The same number of top planes in every layer (the paper's baseline).</summary>
    UniformMsp,

    /// <summary>Top planes handed out by ranking layers on ‖W_l‖_∞ alone, ignoring sensitivity and the flip physics.</summary>
    MagnitudeBased,

    /// <summary>Tunneling-Aware Compensation: the exact minimum of the predicted distortion within the budget.</summary>
    Tac,
}
