using System;
using System.Linq;
using Qtaml.Generators.Calibration;
using Qtaml.Tac;

namespace Qtaml.Generators.Planning;

/// <summary>
/// What calibration predicts about budgets (DESIGN 3.5.5): the share of calibration inputs whose decision survives
/// the build's plan, and the smallest budget with which each allocator's plan keeps <see cref="Target"/> of them,
/// found by bisection on a grid of <see cref="Step"/> bits per weight (every plan designed as the build designs its
/// own: same quantization, same encoding choice). ρ* at the target is Uniform-MSP's budget over TAC's.
/// </summary>
internal sealed class BudgetForecast
{
    /// <summary>The budget grid of the search, in bits per weight.</summary>
    public const double Step = 1.0 / 64;

    /// <summary>The target when the attribute gives none: the share of decisions the faulted model must keep.</summary>
    public const double DefaultTarget = 0.95;

    private BudgetForecast(int samples, double target, double agreement, double ceiling, double tac, double uniform, double magnitude,
        double scale, double simulatedBudget, double simulatedAgreement, int simulatedTrials, int simulatedInputs, double ownScale, double? ownSimulated, int ownTrials)
    {
        SimulatedTrials = simulatedTrials;
        OwnSimulatedTrials = ownTrials;
        SimulatedInputs = simulatedInputs;
        OwnScale = ownScale;
        OwnSimulatedAgreement = ownSimulated;
        Scale = scale;
        SimulatedBudget = simulatedBudget;
        SimulatedAgreement = simulatedAgreement;
        Samples = samples;
        Target = target;
        Agreement = agreement;
        Ceiling = ceiling;
        TacBudget = tac;
        UniformMspBudget = uniform;
        MagnitudeBudget = magnitude;
    }

    /// <summary>The calibration inputs the prediction rests on.</summary>
    public int Samples { get; }

    /// <summary>The first of <see cref="Samples"/> whose gradients the sensitivities and score covariances rest on (<see cref="CalibrationProfile.Swept"/>).</summary>
    public int Swept { get; private init; }

    /// <summary>The decisions each input makes: 1, or the rows of a final softmax over several (<see cref="DecisionLayout"/>).</summary>
    public int DecisionsPerInput { get; private init; } = 1;

    /// <summary>The share of decisions a budget must keep to be enough.</summary>
    public double Target { get; }

    /// <summary>The predicted share of decisions the build's own plan keeps.</summary>
    public double Agreement { get; }

    /// <summary>The share kept with every plane protected: what quantization alone leaves.</summary>
    public double Ceiling { get; }

    /// <summary>The smallest budget per allocator that keeps the target (+∞ where none does), in bits per weight.</summary>
    public double TacBudget { get; }
    public double UniformMspBudget { get; }
    public double MagnitudeBudget { get; }

    /// <summary>κ, the scale on the Gaussian model's variances fitted to the simulation.</summary>
    public double Scale { get; }

    /// <summary>The TAC budget whose plan was simulated through the float network, and the share of decisions that survived there.</summary>
    public double SimulatedBudget { get; }
    public double SimulatedAgreement { get; }

    /// <summary>The fault trials of the target's simulation (more where its first trials disagree, <see cref="FaultSimulation.MostTrials"/>), and the calibration inputs each trial ran.</summary>
    public int SimulatedTrials { get; }
    public int SimulatedInputs { get; }

    /// <summary>The fault trials of the build's own plan's simulation (0 when it is the target's).</summary>
    public int OwnSimulatedTrials { get; }

    /// <summary>κ fitted at the build's own plan, and what that plan's simulation kept (null when the build's plan is the one simulated for the target).</summary>
    public double OwnScale { get; }
    public double? OwnSimulatedAgreement { get; }

    /// <summary>Whether <see cref="Agreement"/> is the simulation's share itself, the model reaching it with no κ in range.</summary>
    public bool AgreementFromSimulation { get; private init; }

    /// <summary>ρ* at the target: how many times TAC's budget Uniform-MSP needs.</summary>
    public double Rho => SaturationReport.Ratio(UniformMspBudget, TacBudget);

    /// <summary>
    /// The forecast: the Gaussian model's variances are first scaled by κ, fitted so that the model reproduces one
    /// simulation of faults through the float network (<see cref="FaultSimulation"/>) at TAC's plan for the target
    /// (as the unscaled model finds it; at the build's budget if that is 0 or unreachable) for the budgets each
    /// allocator needs, and at the build's own plan for the agreement predicted of it. The linearized model misses
    /// the network's nonlinearity and the flips' heavy tails, which make large errors do more harm than their
    /// variance says; κ carries that, measured on this network, into every other plan.
    /// </summary>
    public static BudgetForecast Make(PlanDesigner designer, CalibrationProfile profile, AgreementModel model, double target, Allocator allocator, double budget, System.Threading.CancellationToken cancellationToken)
    {
        double Agree(Allocator a, double b, double scale) => model.Predict(designer.WeightErrorVariance(designer.Design(a, b)), scale);
        double linear = MinimumBudget(b => Agree(Allocator.Tac, b, 1), designer.Bits, target);
        double reference = linear > 0 && !double.IsPositiveInfinity(linear) ? linear : budget;
        PlanDesign plan = designer.Design(Allocator.Tac, reference);
        (double simulated, int simulatedTrials, _) = FaultSimulation.Agreement(profile, designer, plan, 0x51_3D, cancellationToken);
        // The model is fitted on the inputs the simulation ran (all of them unless the network is large).
        int simulatedInputs = FaultSimulation.Inputs(profile);
        double[] referenceVariance = designer.WeightErrorVariance(plan);
        double scale = FitScale(s => model.Predict(referenceVariance, s, simulatedInputs), simulated);
        // The build's own plan is what its forecast speaks of: where it is not the plan simulated above (another
        // budget or allocator), it is simulated too and κ fitted there. One κ carried from the target's plan to a much
        // smaller budget misses by as much as the network's nonlinearity grows between them (ppocr-cls, 54 layers, at
        // 1 bit/weight: 75% predicted from the 95% plan's κ, 51% measured).
        double ownScale = scale, ownKept = simulated;
        double? ownSimulated = null;
        int ownTrials = 0;
        double[] ownVariance = referenceVariance;
        if (allocator != Allocator.Tac || budget != reference)
        {
            PlanDesign own = designer.Design(allocator, budget);
            ownVariance = designer.WeightErrorVariance(own);
            (ownKept, ownTrials, _) = FaultSimulation.Agreement(profile, designer, own, 0x51_3E, cancellationToken);
            ownScale = FitScale(s => model.Predict(ownVariance, s, simulatedInputs), ownKept);
            ownSimulated = ownKept;
        }
        // Where no κ in range makes the model reach the simulation (a decision that survives the faults of no trial, as a
        // text detector's arg max over a probability map of near ties: the model, 38% at κ = 64, the simulation 0%), the
        // simulation itself is the forecast: the share of simulated decisions kept.
        double predicted = model.Predict(ownVariance, ownScale, simulatedInputs);
        bool fromSimulation = Math.Abs(predicted - ownKept) > 0.005;
        double agreement = fromSimulation ? ownKept : model.Predict(ownVariance, ownScale);
        return new BudgetForecast(model.Inputs, target, agreement, Agree(Allocator.Tac, designer.Bits, scale),
            MinimumBudget(b => Agree(Allocator.Tac, b, scale), designer.Bits, target),
            MinimumBudget(b => Agree(Allocator.UniformMsp, b, scale), designer.Bits, target),
            MinimumBudget(b => Agree(Allocator.MagnitudeBased, b, scale), designer.Bits, target),
            scale, reference, simulated, simulatedTrials, simulatedInputs, ownScale, ownSimulated, ownTrials) { AgreementFromSimulation = fromSimulation, DecisionsPerInput = profile.Decision.Positions, Swept = profile.Swept };
    }

    /// <summary>The κ in [1/16, 64] at which the model's agreement equals <paramref name="simulated"/> (it falls as κ grows), by bisection on log κ.</summary>
    private static double FitScale(Func<double, double> agreement, double simulated)
    {
        double low = Math.Log(1.0 / 16), high = Math.Log(64);
        if (agreement(Math.Exp(low)) <= simulated) return Math.Exp(low);
        if (agreement(Math.Exp(high)) >= simulated) return Math.Exp(high);
        for (int i = 0; i < 24; i++)
        {
            double middle = (low + high) / 2;
            if (agreement(Math.Exp(middle)) > simulated) low = middle;
            else high = middle;
        }
        return Math.Exp((low + high) / 2);
    }

    /// <summary>
    /// The smallest budget on the grid whose agreement reaches the target, by bisection, which takes agreement to
    /// grow with the budget (it does for Uniform-MSP and magnitude-based, whose plans nest; TAC's optimal plans need
    /// not nest, but their predicted distortion falls with the budget); +∞ if even full protection falls short.
    /// </summary>
    public static double MinimumBudget(Func<double, double> agreement, int bits, double target)
    {
        int high = bits * (int)(1 / Step);
        if (agreement(high * Step) < target) return double.PositiveInfinity;
        if (agreement(0) >= target) return 0;
        int low = 0;   // agreement(low) < target ≤ agreement(high)
        while (high - low > 1)
        {
            int middle = (low + high) / 2;
            if (agreement(middle * Step) >= target) high = middle;
            else low = middle;
        }
        return high * Step;
    }
}
