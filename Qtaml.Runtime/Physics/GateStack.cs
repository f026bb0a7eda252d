using System;
using System.Collections.Generic;
using System.Linq;

namespace Qtaml.Physics;

/// <summary>
/// A gate dielectric: layers listed from the injecting electrode (the storage node) outwards.
/// The order matters under bias, because the energy dropped in earlier layers lowers the barrier
/// of later ones (DESIGN 3.1).
/// </summary>
public sealed class GateStack
{
    private readonly OxideLayer[] _layers;

    /// <summary>Creates a stack from one or more layers.</summary>
    public GateStack(params OxideLayer[] layers)
    {
        if (layers is null) throw new ArgumentNullException(nameof(layers));
        if (layers.Length == 0) throw new ArgumentException("A gate stack needs at least one layer.", nameof(layers));
        for (int i = 0; i < layers.Length; i++)
            if (layers[i].IsDefault)
                throw new ArgumentException($"Layer {i} is a default OxideLayer with no material or thickness; create it with the constructor or OxideLayer.SiO2/HfO2.", nameof(layers));
        _layers = (OxideLayer[])layers.Clone();
    }

    /// <summary>The layers, from the injecting electrode outwards.</summary>
    public IReadOnlyList<OxideLayer> Layers => _layers;

    /// <summary>An interfacial SiO2 layer under an HfO2 layer: the stack of every node preset.</summary>
    public static GateStack SiO2HfO2(double sio2Nm, double hfo2Nm) => new(OxideLayer.SiO2(sio2Nm), OxideLayer.HfO2(hfo2Nm));

    /// <summary>Total physical thickness, in nm.</summary>
    public double PhysicalThicknessNm => _layers.Sum(l => l.ThicknessNm);

    /// <summary>
    /// Equivalent oxide thickness: the SiO2 (ε = 3.9) thickness with the same capacitance, in nm.
    /// </summary>
    public double EquivalentOxideThicknessNm => 3.9 * _layers.Sum(l => l.ThicknessNm / l.RelativePermittivity);

    /// <summary>
    /// The electric field in each layer, in V/m, for a voltage across the whole stack: the layers are
    /// capacitors in series, so D = ε·F is the same in every layer and F_i = V / (ε_i · Σ t_j/ε_j).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="volts"/> is NaN or infinite.</exception>
    public double[] FieldsVoltsPerMetre(double volts)
    {
        if (double.IsNaN(volts) || double.IsInfinity(volts)) throw new ArgumentException($"The voltage across the stack must be a finite number of volts; it is {volts}.", nameof(volts));
        double sumThicknessOverEps = _layers.Sum(l => l.ThicknessNm * PhysicalConstants.MetresPerNanometre / l.RelativePermittivity);
        var fields = new double[_layers.Length];
        for (int i = 0; i < fields.Length; i++)
            fields[i] = volts / (_layers[i].RelativePermittivity * sumThicknessOverEps);
        return fields;
    }

    /// <inheritdoc />
    public override string ToString() => string.Join(" + ", _layers.Select(l => $"{l.ThicknessNm} nm {l.Material}"));
}
