using Qtaml.Sample.Models;

namespace Qtaml.Generators.Tests.Sample;

/// <summary>
/// The sample's node builds (the CNN an application ships, the MLP and encoder of the window study) are calibrated
/// and compiled at the budget their own build recommends for 95% of decisions at the end of the 2nm window: the
/// forecast in their Info says the budget meets the target with less than the waste tolerance to spare, which is
/// exactly when the build reports neither QTAML010 nor QTAML011.
/// </summary>
public class SampleRecommendedBudgetTests
{
    public static TheoryData<string> Builds => new() { "cnn", "mlp", "encoder" };

    [Theory]
    [MemberData(nameof(Builds))]
    public void Node_builds_use_the_budget_their_build_recommends(string build)
    {
        ModelInfo info = build switch { "cnn" => Digits.Info, "mlp" => MlpNode.Info, _ => TransformerNode.Info };
        AgreementForecast forecast = Assert.IsType<AgreementForecast>(info.Forecast);
        Assert.Equal(256, forecast.Samples);
        Assert.Equal(0.95, forecast.TargetAgreement);
        Assert.True(forecast.PredictedAgreement >= forecast.TargetAgreement, $"{build}: predicted {forecast.PredictedAgreement:P1} at {info.EccBudget}");
        Assert.InRange(info.EccBudget - forecast.TacBudget, 0, 0.25);
        Assert.True(info.HasWindow);
    }
}
