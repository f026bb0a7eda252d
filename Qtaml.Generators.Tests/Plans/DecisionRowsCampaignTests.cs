using Qtaml.Faults;
using Qtaml.Generators.Tests.Calibration;
using Qtaml.Generators.Tests.Generator;
using Qtaml.Generators.Tests.Support;
using Qtaml.Physics;
using Qtaml.Plans;
using Qtaml.Tac;

namespace Qtaml.Generators.Tests.Plans;

/// <summary>
/// A model whose final softmax runs over rows (a recogniser's characters) makes one decision per row, and a runtime
/// campaign counts them as the build's forecast does: the class says its layout, expected decisions come one per row,
/// and a share is of every row's decision, not of one arg max over all rows' scores at once.
/// </summary>
public class DecisionRowsCampaignTests
{
    private const int Steps = SequenceDecisionTests.Steps, Classes = SequenceDecisionTests.Classes, Inputs = 16;

    private static readonly Lazy<CompiledVariant> Model = new(() =>
    {
        const string source = "using Qtaml;\nnamespace InProcess;\n[TunnelingCompensated(\"rec.onnx\", Node = \"2nm\")] public sealed partial class Rec { }";
        var files = new[] { GeneratorHarness.WeightFile("rec.onnx", SequenceDecisionTests.Recogniser()) };
        Type type = GeneratorHarness.CompileAndLoad(GeneratorHarness.Run(source, files).Output).GetType("InProcess.Rec", throwOnError: true)!;
        return InProcessModels.Variant(type);
    });

    private static float[][] TestInputs() =>
        Enumerable.Range(0, Inputs).Select(i => TestModels.Input(Steps * SequenceDecisionTests.Features, 900 + i).Select(v => 2 * v - 1).ToArray()).ToArray();

    private static int[] Decide(CompiledVariant model, WeightImage image, float[][] inputs)
    {
        var scores = new float[model.OutputLength];
        return inputs.SelectMany(x =>
        {
            model.Run(image, x, scores);
            return model.Decisions.Decide(scores);
        }).ToArray();
    }

    [Fact]
    public void The_compiled_class_says_it_makes_one_decision_per_row_and_a_classifier_one()
    {
        Assert.Equal(new DecisionLayout(Steps, Classes), Model.Value.Info.Decisions);
        Assert.Equal(Steps * Classes, Model.Value.OutputLength);
        Assert.Null(Qtaml.Sample.Models.MlpNode.Info.Decisions);
        Assert.Equal(DecisionLayout.Whole(10), CompiledVariant.Of<Qtaml.Sample.Models.MlpNode>().Decisions);
    }

    [Fact]
    public void A_share_counts_every_rows_decision()
    {
        CompiledVariant model = Model.Value;
        WeightImage image = model.Quantized.CreateImage(model.Info.Allocator, model.Info.EccBudget, new FlipProbabilities(model.Info.P10, model.Info.P01));
        float[][] inputs = TestInputs();
        int[] own = Decide(model, image, inputs);
        Assert.Equal(Inputs * Steps, own.Length);
        Assert.True(own.Distinct().Count() >= 3, "the rows should choose among several classes, or per-row decisions would not be told from one");
        Assert.Equal(1.0, PlanCampaign.DecisionShare(model, image, inputs, own));

        // Five rows of three inputs expected otherwise: exactly 5 of 192 decisions lost, not 3 of 16 inputs.
        int[] changed = (int[])own.Clone();
        foreach (int at in new[] { 0, 1, Steps + 4, 5 * Steps + 11, 5 * Steps + 3 }) changed[at] = (changed[at] + 1) % Classes;
        Assert.Equal(1.0 - 5.0 / (Inputs * Steps), PlanCampaign.DecisionShare(model, image, inputs, changed), 12);
    }

    [Fact]
    public void A_campaign_takes_one_expected_decision_per_row_and_counts_rows_in_its_interval()
    {
        CompiledVariant model = Model.Value;
        float[][] inputs = TestInputs();
        var flips = new FlipProbabilities(model.Info.P10, model.Info.P01);
        TunnelingFaultModel faults = TunnelingFaultModel.ForModel(model.Info, 1);
        var options = new PlanCampaignOptions(Trials: 4, Seed: 7, MaxDegreeOfParallelism: 1);

        // One decision per input is refused with the count the model needs.
        int[] perInput = new int[Inputs];
        var error = Assert.Throws<ArgumentException>(() => new PlanCampaign(new[] { model }, inputs, perInput, flips, faults, options));
        Assert.Contains($"{Steps} decisions per input", error.Message);
        Assert.Contains($"take {Inputs * Steps}", error.Message);

        WeightImage clean = model.Quantized.CreateImage(Allocator.Tac, 8, flips);   // every plane protected: no flip lands
        int[] expected = Decide(model, clean, inputs);
        var campaign = new PlanCampaign(new[] { model }, inputs, expected, flips, faults, options);
        Assert.Equal(new DecisionLayout(Steps, Classes), campaign.Decisions);
        PlanMeasurement all = campaign.Measure(Allocator.Tac, 8);
        Assert.Equal(Inputs * Steps, all.Result.DecisionsPerTrial);
        Assert.All(all.Result.Values, share => Assert.Equal(1.0, share));

        // Unprotected at the window's end, some rows change: each trial's share is a whole number of the 192 rows.
        PlanMeasurement none = campaign.Measure(Allocator.Tac, 0);
        Assert.All(none.Result.Values, share => Assert.Equal(0, share * Inputs * Steps - Math.Round(share * Inputs * Steps), 9));
    }
}
