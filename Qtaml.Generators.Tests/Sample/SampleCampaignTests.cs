using Qtaml.Data;
using Qtaml.Plans;
using Qtaml.Sample;
using Qtaml.Tac;

namespace Qtaml.Generators.Tests.Sample;

/// <summary>The sample app's campaign, small: the paper's claim in miniature on the real compiled models, one class each.</summary>
public class SampleCampaignTests
{
    [Theory]
    [InlineData("cnn", 0.10, 0.5)]
    [InlineData("transformer", 0.05, 0.6)]
    public void Tac_needs_no_more_budget_than_Uniform_MSP_to_keep_95_percent_of_clean_accuracy(string model, double pFlip, double unprotectedBelow)
    {
        (_, MnistData test) = MnistData.Load(MnistData.DefaultPath());
        // 4 trials of 300 test digits per plan, the paper's p; fixed seeds, so deterministic.
        CampaignReport report = Campaign.Run(new CampaignOptions(Model: model, PFlip: pFlip, Trials: 4, TestImages: 300), test, new[] { 0.25 });

        Assert.True(report.CleanAccuracy >= 0.95, $"the {model}'s plain 8-bit accuracy is {report.CleanAccuracy:P2}");
        double? tac = report.Budgets[Allocator.Tac].Budget, uniform = report.Budgets[Allocator.UniformMsp].Budget;
        Assert.True(tac is not null, "TAC never kept 95% of clean accuracy");
        Assert.True(uniform is null || tac <= uniform, $"TAC needed {tac} bits/weight, Uniform-MSP {uniform}");
        // The bisection's budget keeps the target, and one grid step less does not (the bisection's invariant, measured).
        PlanMeasurement at = report.Budgets[Allocator.Tac].AtBudget!;
        Assert.True(at.Result.Mean >= report.Target);
        Assert.True(at.Plan.BitsPerWeight <= tac + 1e-12);
        // Unprotected, the paper's p destroys the network: the campaign measures something real.
        Assert.True(report.Measurements.Single(m => m.Allocator == Allocator.None).Result.Mean < unprotectedBelow);
    }
}
