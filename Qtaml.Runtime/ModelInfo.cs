using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Qtaml;

/// <summary>The build-time facts about a compiled model: the node, the flips, the protection plan and TAC's predictions.</summary>
public sealed class ModelInfo
{
    private readonly LayerInfo[] _layers;
    private readonly int[] _protection;

    /// <summary>Used by generated code.</summary>
    public ModelInfo(string modelPath, string node, int bits, double p10, double p01, double eccBudget,
        double predictedDistortion, double noiseFloor, double rho, double minimumTacBudget, double uniformMspBudget, LayerInfo[] layers,
        Tac.Allocator allocator = Tac.Allocator.Tac, Physics.CompensationPoint operatingPoint = Physics.CompensationPoint.Static, double windowEndP10 = double.NaN, double windowEndP01 = double.NaN,
        Moments.CodeEncoding encoding = Moments.CodeEncoding.TwosComplement, AgreementForecast? forecast = null, DecisionLayout? decisions = null)
    {
        Forecast = forecast;
        Decisions = decisions;
        Encoding = encoding;
        OperatingPoint = operatingPoint;
        WindowEndP10 = double.IsNaN(windowEndP10) ? p10 : windowEndP10;
        WindowEndP01 = double.IsNaN(windowEndP01) ? p01 : windowEndP01;
        Allocator = allocator;
        ModelPath = modelPath;
        Node = node;
        Bits = bits;
        P10 = p10;
        P01 = p01;
        EccBudget = eccBudget;
        PredictedDistortion = predictedDistortion;
        NoiseFloor = noiseFloor;
        Rho = rho;
        MinimumTacBudget = minimumTacBudget;
        UniformMspBudget = uniformMspBudget;
        _layers = layers ?? throw new ArgumentNullException(nameof(layers));
        _protection = layers.Select(l => l.ProtectedPlanes).ToArray();
    }

    /// <summary>The weight file the model was compiled from.</summary>
    public string ModelPath { get; }

    /// <summary>The node preset name, or "p=..." for an explicit flip probability.</summary>
    public string Node { get; }

    /// <summary>The bit width of every stored weight (0 for an unquantized reference build).</summary>
    public int Bits { get; }

    /// <summary>
    /// What the stored codes are compensated for: a node's read-out averaged over its retention window, the window's
    /// end, or a static flip probability (no window). <see cref="Physics.CompensationPoints.Describe"/> words it.
    /// </summary>
    public Physics.CompensationPoint OperatingPoint { get; }

    /// <summary>How the stored codes are laid out in their bits.</summary>
    public Moments.CodeEncoding Encoding { get; }

    /// <summary>Whether the flips grow through a retention window (a node build), rather than being a static probability.</summary>
    public bool HasWindow => Physics.CompensationPoints.HasWindow(OperatingPoint);

    /// <summary>p10 at the end of the retention window, the most flips a read meets (for a static build, <see cref="P10"/>).</summary>
    public double WindowEndP10 { get; }

    /// <summary>p01 at the end of the retention window (for a static build, <see cref="P01"/>).</summary>
    public double WindowEndP01 { get; }

    /// <summary>Probability that a stored 1 reads as 0, at the operating point the codes are compensated for.</summary>
    public double P10 { get; }

    /// <summary>Probability that a stored 0 reads as 1, at the operating point the codes are compensated for.</summary>
    public double P01 { get; }

    /// <summary>The rule that made the protection plan (<see cref="Tac.Allocator.None"/> for an unquantized build).</summary>
    public Tac.Allocator Allocator { get; }

    /// <summary>The ECC budget the plan was made for, in protected bits per weight.</summary>
    public double EccBudget { get; }

    /// <summary>TAC's predicted output distortion D(m) for the plan.</summary>
    public double PredictedDistortion { get; }

    /// <summary>The quantization noise floor D_q.</summary>
    public double NoiseFloor { get; }

    /// <summary>ρ* = B_UniformMSP(D_q) / B_TAC(D_q).</summary>
    public double Rho { get; }

    /// <summary>The budget TAC needs to reach the noise floor, in protected bits per weight.</summary>
    public double MinimumTacBudget { get; }

    /// <summary>The budget Uniform-MSP needs to reach the noise floor.</summary>
    public double UniformMspBudget { get; }

    /// <summary>
    /// With calibration inputs: the predicted share of decisions the plan keeps and the budget each allocator needs
    /// for the target; null for a build without them (its budgets are the data-free bound at the noise floor).
    /// </summary>
    public AgreementForecast? Forecast { get; }

    /// <summary>
    /// How the output is read as decisions when it is several (a final softmax over rows: one decision per row, as the
    /// build's calibration and forecast count them); null when the output is one decision, the arg max of all of it.
    /// </summary>
    public DecisionLayout? Decisions { get; }

    /// <summary>The weight layers, in the order of the weight image.</summary>
    public IReadOnlyList<LayerInfo> Layers => _layers;

    /// <summary>Protected top bit-planes per layer: pass it to <c>TunnelingFaultModel.Inject</c>.</summary>
    public IReadOnlyList<int> Protection => _protection;

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new System.Text.StringBuilder();
        string F(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
        if (Bits == 0)
            return text.Append(ModelPath).Append(": unquantized reference build (float weights, no fault model), ").Append(_layers.Length).Append(" weight layers").ToString();
        text.Append(ModelPath).Append(" at ").Append(Node).Append(": ").Append(Bits).Append("-bit ")
            .Append(Encoding == Moments.CodeEncoding.SignMagnitude ? "sign-magnitude" : "two's complement").Append(" codes, ")
            .Append(Plans.AllocatorNames.Of(Allocator)).Append(" at ").Append(F(EccBudget)).Append(" protected bits/weight").AppendLine();
        // What the build did first: the planes it protects and, with calibration, the decisions it keeps.
        int protectedPlanes = _protection.Sum(), allPlanes = _layers.Length * Bits;
        text.Append("  ECC protects ").Append(protectedPlanes).Append(" of ").Append(allPlanes).Append(" bit-planes, the top ones of ")
            .Append(_layers.Count(l => l.ProtectedPlanes > 0)).Append(" of ").Append(_layers.Length).Append(" layers (per layer in the table)").AppendLine();
        if (Forecast is { } forecast)
            text.Append("  ").Append(forecast).Append(HasWindow ? " (judged at the end of the window, the worst read)" : "").AppendLine();
        else
            text.Append("  no calibration inputs, so no forecast of the decisions kept: give Calibration = \"inputs.npy\" for one").AppendLine();
        if (HasWindow)
            text.Append("  flips: p10 = ").Append(F(WindowEndP10)).Append(", p01 = ").Append(F(WindowEndP01)).Append(" at the end of the retention window, none just after a refresh; ")
                .Append("codes compensated for the ").Append(Physics.CompensationPoints.Describe(OperatingPoint)).Append(" (p10 = ").Append(F(P10)).Append(", p01 = ").Append(F(P01)).Append(')').AppendLine();
        else
            text.Append("  flips: p10 = ").Append(F(P10)).Append(", p01 = ").Append(F(P01)).Append(", static").AppendLine();
        int width = Math.Max(5, _layers.Select(l => l.Name.Length).DefaultIfEmpty(0).Max());
        text.Append("  ").Append("layer".PadRight(width)).Append("  operator            weights  protected  sensitivity G").AppendLine();
        foreach (LayerInfo layer in _layers)
            text.Append("  ").Append(layer.Name.PadRight(width)).Append("  ").Append(layer.Operator.PadRight(18))
                .Append(layer.WeightCount.ToString(CultureInfo.InvariantCulture).PadLeft(9)).Append("  ")
                .Append((layer.ProtectedPlanes + " of " + Bits).PadLeft(9)).Append("  ").Append(F(layer.Sensitivity)).AppendLine();
        // The noise floor is a reference point of the physics, not a target: at p = 0.1 reaching it costs most of the
        // bits, which says nothing about whether the budget keeps the app's decisions (the forecast does).
        text.Append("  noise-floor reference (not a target): predicted distortion ").Append(F(PredictedDistortion)).Append(", quantization noise floor ").Append(F(NoiseFloor))
            .Append("; reaching the floor would take TAC ").Append(F(MinimumTacBudget)).Append(" bits/weight, Uniform-MSP ").Append(F(UniformMspBudget))
            .Append(" (rho* = ").Append(Rho.ToString("F2", CultureInfo.InvariantCulture)).Append(')');
        return text.ToString();
    }
}

/// <summary>
/// What a build with calibration inputs predicts about decisions: the share of calibration inputs whose arg max
/// survives the faults under the plan, and the smallest budget per allocator that keeps <paramref name="TargetAgreement"/>
/// of them (+∞ where none does), in protected bits per weight.
/// </summary>
/// <param name="Samples">The calibration inputs the prediction rests on.</param>
/// <param name="TargetAgreement">The share of decisions a budget must keep (the attribute's TargetAgreement, default 0.95).</param>
/// <param name="PredictedAgreement">The share the compiled plan is predicted to keep.</param>
/// <param name="Ceiling">The share kept with every bit-plane protected: what quantization alone leaves.</param>
/// <param name="TacBudget">The budget TAC needs for the target.</param>
/// <param name="UniformMspBudget">The budget Uniform-MSP needs for the target.</param>
/// <param name="MagnitudeBudget">The budget magnitude-based allocation needs for the target.</param>
public sealed record AgreementForecast(int Samples, double TargetAgreement, double PredictedAgreement, double Ceiling, double TacBudget, double UniformMspBudget, double MagnitudeBudget)
{
    /// <summary>ρ* at the target: Uniform-MSP's budget over TAC's.</summary>
    public double Rho => Tac.SaturationReport.Ratio(UniformMspBudget, TacBudget);

    /// <summary>The budget <paramref name="allocator"/> needs for the target; NaN for <see cref="Tac.Allocator.None"/>, which spends none.</summary>
    public double BudgetFor(Tac.Allocator allocator) => allocator switch
    {
        Tac.Allocator.Tac => TacBudget,
        Tac.Allocator.UniformMsp => UniformMspBudget,
        Tac.Allocator.MagnitudeBased => MagnitudeBudget,
        _ => double.NaN,
    };

    /// <inheritdoc />
    public override string ToString()
    {
        static string P(double v) => v.ToString("P1", CultureInfo.InvariantCulture);
        static string B(double v) => double.IsPositiveInfinity(v) ? "unreachable" : v.ToString("0.###", CultureInfo.InvariantCulture);
        return "calibrated on " + Samples + " inputs: predicted to keep " + P(PredictedAgreement) + " of decisions (" + P(Ceiling) + " fully protected); for "
            + P(TargetAgreement) + " TAC needs " + B(TacBudget) + " bits/weight, Uniform-MSP " + B(UniformMspBudget) + ", magnitude-based " + B(MagnitudeBudget)
            + " (rho* = " + Rho.ToString("F2", CultureInfo.InvariantCulture) + ")";
    }
}

/// <summary>One weight layer of a compiled model.</summary>
/// <param name="Name">The layer's name in the weight file.</param>
/// <param name="Operator">The operator, such as "Conv" or "Gemm".</param>
/// <param name="WeightCount">The number of stored weights.</param>
/// <param name="ProtectedPlanes">How many top bit-planes ECC covers.</param>
/// <param name="Sensitivity">G_l, the output's sensitivity to a unit error in one weight.</param>
public sealed record LayerInfo(string Name, string Operator, int WeightCount, int ProtectedPlanes, double Sensitivity);
