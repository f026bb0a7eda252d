using System.Globalization;

namespace Qtaml.Tac;

/// <summary>
/// The saturation point of ECC (DESIGN 3.5.4): below the quantization noise floor D_q more protection
/// buys nothing visible, so the budget each allocator needs to reach D_q is the budget worth spending,
/// and ρ* = B_UniformMSP(D_q) / B_TAC(D_q) predicts how much less ECC TAC needs.
/// </summary>
public sealed class SaturationReport
{
    internal SaturationReport(double noiseFloor, double tacBudget, double uniformMspBudget, double magnitudeBudget)
    {
        NoiseFloor = noiseFloor;
        TacBudget = tacBudget;
        UniformMspBudget = uniformMspBudget;
        MagnitudeBasedBudget = magnitudeBudget;
    }

    /// <summary>D_q = Σ_l G_l·n_l·s_l²/12.</summary>
    public double NoiseFloor { get; }

    /// <summary>B_TAC(D_q), in protected bits per weight.</summary>
    public double TacBudget { get; }

    /// <summary>B_UniformMSP(D_q), in protected bits per weight (a whole number).</summary>
    public double UniformMspBudget { get; }

    /// <summary>The magnitude-based allocator's budget to reach D_q, in protected bits per weight.</summary>
    public double MagnitudeBasedBudget { get; }

    /// <summary>
    /// ρ* = B_UniformMSP(D_q)/B_TAC(D_q). 1 when neither needs any ECC; +∞ when only Uniform-MSP does.
    /// </summary>
    public double Rho => Ratio(UniformMspBudget, TacBudget);

    /// <summary>How many times TAC's budget Uniform-MSP's is: 1 when both are 0, +∞ when only TAC's is.</summary>
    internal static double Ratio(double uniformMspBudget, double tacBudget) =>
        tacBudget == 0 ? (uniformMspBudget == 0 ? 1 : double.PositiveInfinity) : uniformMspBudget / tacBudget;

    /// <inheritdoc />
    public override string ToString() => string.Format(CultureInfo.InvariantCulture,
        "D_q = {0:G4}; budget to reach it: TAC {1:F3}, Uniform-MSP {2:F0}, magnitude {3:F3} bits/weight; rho* = {4:F2}",
        NoiseFloor, TacBudget, UniformMspBudget, MagnitudeBasedBudget, Rho);
}
