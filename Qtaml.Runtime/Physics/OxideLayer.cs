using System;

namespace Qtaml.Physics;

/// <summary>
/// One dielectric layer of a gate stack, in the units the literature quotes: nanometres,
/// electron-volts and multiples of the electron rest mass.
/// </summary>
public readonly struct OxideLayer : IEquatable<OxideLayer>
{
    /// <summary>Creates a layer and checks that every constant is physical.</summary>
    /// <param name="material">A label such as "SiO2"; used only in messages and reports.</param>
    /// <param name="thicknessNm">Physical thickness t, in nm (greater than zero).</param>
    /// <param name="relativePermittivity">Relative permittivity ε (at least 1).</param>
    /// <param name="barrierEv">Barrier height φ above the injecting band edge, in eV (greater than zero).</param>
    /// <param name="effectiveMass">Tunneling effective mass, in units of m0 (greater than zero).</param>
    public OxideLayer(string material, double thicknessNm, double relativePermittivity, double barrierEv, double effectiveMass)
    {
        if (!(thicknessNm > 0) || double.IsInfinity(thicknessNm))
            throw new ArgumentOutOfRangeException(nameof(thicknessNm), thicknessNm, "Layer thickness must be a finite number of nanometres greater than zero.");
        if (!(relativePermittivity >= 1) || double.IsInfinity(relativePermittivity))
            throw new ArgumentOutOfRangeException(nameof(relativePermittivity), relativePermittivity, "Relative permittivity must be finite and at least 1 (vacuum).");
        if (!(barrierEv > 0) || double.IsInfinity(barrierEv))
            throw new ArgumentOutOfRangeException(nameof(barrierEv), barrierEv, "Barrier height must be a finite number of electron-volts greater than zero.");
        if (!(effectiveMass > 0) || double.IsInfinity(effectiveMass))
            throw new ArgumentOutOfRangeException(nameof(effectiveMass), effectiveMass, "Effective mass must be a finite multiple of m0 greater than zero.");
        Material = material ?? throw new ArgumentNullException(nameof(material));
        ThicknessNm = thicknessNm;
        RelativePermittivity = relativePermittivity;
        BarrierEv = barrierEv;
        EffectiveMass = effectiveMass;
    }

    /// <summary>
    /// Whether this is the struct's default value (<c>new OxideLayer()</c> or <c>default</c>): no material and zero
    /// thickness, which no constructor makes. Everything that takes a layer rejects it.
    /// </summary>
    public bool IsDefault => Material is null;

    /// <summary>A label such as "SiO2".</summary>
    public string Material { get; }

    /// <summary>Physical thickness, in nm.</summary>
    public double ThicknessNm { get; }

    /// <summary>Relative permittivity ε.</summary>
    public double RelativePermittivity { get; }

    /// <summary>Barrier height φ, in eV.</summary>
    public double BarrierEv { get; }

    /// <summary>Tunneling effective mass, in units of m0.</summary>
    public double EffectiveMass { get; }

    /// <summary>Interfacial silicon dioxide: ε = 3.9, φ = 3.1 eV to the Si conduction band, m = 0.42 m0.</summary>
    public static OxideLayer SiO2(double thicknessNm) => new("SiO2", thicknessNm, 3.9, 3.1, 0.42);

    /// <summary>Hafnium dioxide: ε = 22, φ = 1.4 eV, m = 0.10 m0 (Zhu et al., IEEE EDL 23, 2002).</summary>
    public static OxideLayer HfO2(double thicknessNm) => new("HfO2", thicknessNm, 22, 1.4, 0.10);

    /// <inheritdoc />
    public bool Equals(OxideLayer other) =>
        Material == other.Material && ThicknessNm.Equals(other.ThicknessNm) && RelativePermittivity.Equals(other.RelativePermittivity)
        && BarrierEv.Equals(other.BarrierEv) && EffectiveMass.Equals(other.EffectiveMass);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is OxideLayer other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        unchecked
        {
            int h = Material?.GetHashCode() ?? 0;
            h = h * 31 + ThicknessNm.GetHashCode();
            h = h * 31 + RelativePermittivity.GetHashCode();
            h = h * 31 + BarrierEv.GetHashCode();
            return h * 31 + EffectiveMass.GetHashCode();
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Material} {ThicknessNm} nm (eps {RelativePermittivity}, {BarrierEv} eV, {EffectiveMass} m0)";

    /// <summary>Value equality.</summary>
    public static bool operator ==(OxideLayer left, OxideLayer right) => left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(OxideLayer left, OxideLayer right) => !left.Equals(right);
}
