using System;

namespace Qtaml.Physics;

/// <summary>
/// WKB transmission through a multi-layer gate stack (DESIGN 3.1).
/// </summary>
/// <remarks>
/// Inside layer i the barrier falls linearly with depth, from a_i = qφ_i − (energy dropped in the
/// layers before i) to a_i − qF_i·t_i. Integrating √(2m(U−E)) over the part of the layer that is
/// still classically forbidden gives
/// <code>
///   S_i = 2√(2 m_i) / (3 q F_i) · [ a_i^{3/2} − max(a_i − qF_i t_i, 0)^{3/2} ]      T = exp(−2 Σ S_i / ħ)
/// </code>
/// That form is 0/0 as F → 0, so where the barrier stays positive through the whole layer we use the
/// algebraically equal x^{3/2} − y^{3/2} = (x − y)(x + √(xy) + y)/(√x + √y) with x − y = qF t, which
/// cancels the field and tends smoothly to the rectangular-barrier value t·√(2 m qφ).
/// </remarks>
public static class Wkb
{
    /// <summary>
    /// The dimensionless WKB exponent 2·S/ħ for a voltage across the stack (T = exp(−exponent)).
    /// </summary>
    /// <param name="stack">The gate stack.</param>
    /// <param name="volts">Voltage across the stack, in volts (zero or more).</param>
    public static double Exponent(GateStack stack, double volts)
    {
        if (stack is null) throw new ArgumentNullException(nameof(stack));
        if (!(volts >= 0) || double.IsInfinity(volts))
            throw new ArgumentOutOfRangeException(nameof(volts), volts, "Voltage must be a finite number of volts, zero or more.");

        double[] fields = stack.FieldsVoltsPerMetre(volts);
        double action = 0;      // Σ S_i, in J·s
        double droppedJ = 0;    // potential energy already dropped before layer i, in J
        for (int i = 0; i < fields.Length; i++)
        {
            OxideLayer layer = stack.Layers[i];
            double thicknessM = layer.ThicknessNm * PhysicalConstants.MetresPerNanometre;
            double massKg = layer.EffectiveMass * PhysicalConstants.ElectronMass;
            double dropJ = PhysicalConstants.ElementaryCharge * fields[i] * thicknessM;   // qF_i t_i
            double entryJ = PhysicalConstants.ElementaryCharge * layer.BarrierEv - droppedJ;   // a_i
            droppedJ += dropJ;
            if (entryJ <= 0) continue;   // the electron already passes over this layer

            double exitJ = entryJ - dropJ;
            action += exitJ > 0
                ? TrapezoidalBarrierAction(massKg, thicknessM, entryJ, exitJ)
                : TriangularBarrierAction(massKg, fields[i], entryJ);
        }
        return 2 * action / PhysicalConstants.ReducedPlanck;
    }

    /// <summary>The WKB transmission probability T = exp(−2S/ħ) through the stack at a voltage.</summary>
    public static double Transmission(GateStack stack, double volts) => Math.Exp(-Exponent(stack, volts));

    /// <summary>
    /// ∫√(2m(U−E))dx over a barrier that falls linearly from <paramref name="entryJ"/> to a positive
    /// <paramref name="exitJ"/> across the whole layer; written without the field so that it is exact
    /// at zero field (a rectangular barrier).
    /// </summary>
    private static double TrapezoidalBarrierAction(double massKg, double thicknessM, double entryJ, double exitJ)
    {
        double rootEntry = Math.Sqrt(entryJ), rootExit = Math.Sqrt(exitJ);
        return 2 * Math.Sqrt(2 * massKg) * thicknessM * (entryJ + rootEntry * rootExit + exitJ) / (3 * (rootEntry + rootExit));
    }

    /// <summary>
    /// ∫√(2m(U−E))dx over a barrier that reaches zero inside the layer (the Fowler–Nordheim triangle).
    /// </summary>
    private static double TriangularBarrierAction(double massKg, double fieldVoltsPerMetre, double entryJ) =>
        2 * Math.Sqrt(2 * massKg) * entryJ * Math.Sqrt(entryJ) / (3 * PhysicalConstants.ElementaryCharge * fieldVoltsPerMetre);
}
