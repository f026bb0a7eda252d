using Qtaml.Data;
using Qtaml.Faults;
using Qtaml.Physics;
using Qtaml.Plans;
using Qtaml.Tac;

namespace Qtaml.Sample;

/// <summary>The options of a fault campaign.</summary>
public sealed record CampaignOptions(string Model = "cnn", double PFlip = 0.10, string? Node = null, int Trials = 20, int TestImages = 500, ulong Seed = 2026);

/// <summary>What a campaign found: each allocator's minimum budget, every measured plan, and the yardsticks.</summary>
public sealed record CampaignReport(string Model, double CleanAccuracy, double Target, IReadOnlyDictionary<Allocator, BudgetEstimate> Budgets,
    IReadOnlyList<PlanMeasurement> Measurements, ModelInfo Info, string FaultModel)
{
    /// <summary>Uniform-MSP's minimum budget over TAC's: how much less ECC TAC needs, measured.</summary>
    public double? MeasuredRatio => BudgetRatio.Of(Budgets[Allocator.UniformMsp], Budgets[Allocator.Tac])?.Ratio;
}

/// <summary>
/// The accuracy-against-budget campaign over one compiled model, through the runtime's <see cref="PlanCampaign"/> (the
/// measurement qtaml campaign runs too): each allocator's minimum budget for 95% of clean accuracy, by bisection to
/// 1/64 bit per weight, then each allocator at the budgets asked for.
/// </summary>
public static class Campaign
{
    public static readonly Allocator[] Allocators = { Allocator.Tac, Allocator.UniformMsp, Allocator.MagnitudeBased };

    /// <summary>
    /// Clean accuracy is the compiled model's with plain 8-bit codes and no flips (a runtime plan: nothing protected,
    /// nothing compensated), on the campaign's digits; the bar is 95% of it.
    /// </summary>
    public static CampaignReport Run(CampaignOptions options, MnistData test, IReadOnlyList<double> fixedBudgets, Action<PlanMeasurement>? measured = null)
    {
        CompiledVariant model = Models.SampleModels.Of(options.Model);
        int subset = Math.Min(options.TestImages, test.Count);
        float[][] inputs = test.Images.Take(subset).ToArray();
        int[] labels = test.Labels.Take(subset).Select(l => (int)l).ToArray();
        double clean = PlainAccuracy(model, inputs, labels);

        // A static p compensates and faults alike; a node's codes are compensated for its window average and read, at worst, at the window's end.
        (FlipProbabilities compensated, TunnelingFaultModel faults, string description) = options.Node is null
            ? (FlipProbabilities.Symmetric(options.PFlip), TunnelingFaultModel.Symmetric(options.PFlip), $"symmetric p_flip = {options.PFlip}")
            : (NodePresets.Get(options.Node).WindowAveragedFlipProbabilities, TunnelingFaultModel.ForNode(options.Node), $"{options.Node} physics, end of window");
        var campaign = new PlanCampaign(new[] { model }, inputs, labels, compensated, faults, new PlanCampaignOptions(options.Trials, options.Seed, ReadAfterRefresh: options.Node is not null));
        if (measured is not null) campaign.Measured += measured;
        var budgets = new Dictionary<Allocator, BudgetEstimate>();
        foreach (Allocator allocator in Allocators)
        {
            budgets[allocator] = campaign.MinimumBudget(allocator, 0.95 * clean);
            foreach (double budget in fixedBudgets) campaign.Measure(allocator, budget);
        }
        campaign.Measure(Allocator.None, 0);
        return new CampaignReport(options.Model, clean, 0.95 * clean, budgets, campaign.Measurements, model.Info, description);
    }

    /// <summary>The model's accuracy with its intended 8-bit codes and no faults.</summary>
    public static double PlainAccuracy(CompiledVariant model, IReadOnlyList<float[]> inputs, IReadOnlyList<int> labels)
    {
        WeightImage plain = model.Quantized.CreateImage(Allocator.None, 0, FlipProbabilities.None);
        return PlanCampaign.DecisionShare(model, plain, inputs, labels);
    }
}
