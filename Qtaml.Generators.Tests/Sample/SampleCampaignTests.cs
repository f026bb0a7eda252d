using Qtaml.Data;
using Qtaml.Sample;
using Qtaml.Sample.Models;

namespace Qtaml.Generators.Tests.Sample;

/// <summary>The sample app's campaign, small: the paper's claim in miniature on the real compiled CNN.</summary>
public class SampleCampaignTests
{
    [Fact]
    public void Tac_needs_no_more_budget_than_Uniform_MSP_to_keep_95_percent_of_clean_accuracy()
    {
        (_, MnistData test) = MnistData.Load(MnistData.DefaultPath());
        // 4 trials of 300 test digits per point, p_flip = 0.10 as in the paper; fixed seeds, so deterministic.
        CampaignReport report = Campaign.Run(new CampaignOptions(Trials: 4, TestImages: 300), test, Variants.Cnn, Variants.Clean("cnn"));

        Assert.True(report.CleanAccuracy >= 0.97, $"the CNN's clean (float) accuracy is {report.CleanAccuracy:P2}");
        double? tac = report.MinimumBudget("Tac"), uniform = report.MinimumBudget("UniformMsp");
        Assert.True(tac is not null, "TAC never kept 95% of clean accuracy");
        Assert.True(uniform is null || tac <= uniform, $"TAC needed {tac} bits/weight, Uniform-MSP {uniform}");
        // Unprotected, p = 0.10 destroys the network: the campaign measures something real.
        Assert.True(report.Points.Single(p => p.Allocator == "None").Accuracy.Mean < 0.5);
    }

    [Fact]
    public void On_the_transformer_at_p_005_Tac_needs_no_more_budget_than_Uniform_MSP()
    {
        (_, MnistData test) = MnistData.Load(MnistData.DefaultPath());
        CampaignReport report = Campaign.Run(new CampaignOptions(Model: "transformer", PFlip: 0.05, Trials: 4, TestImages: 300), test, Variants.Transformer, Variants.Clean("transformer"));

        Assert.True(report.CleanAccuracy >= 0.95, $"the transformer's clean (float) accuracy is {report.CleanAccuracy:P2}");
        double? tac = report.MinimumBudget("Tac"), uniform = report.MinimumBudget("UniformMsp");
        Assert.True(tac is not null, "TAC never kept 95% of clean accuracy");
        Assert.True(uniform is null || tac <= uniform, $"TAC needed {tac} bits/weight, Uniform-MSP {uniform}");
        Assert.True(report.Points.Single(p => p.Allocator == "None").Accuracy.Mean < 0.6);
    }
}
