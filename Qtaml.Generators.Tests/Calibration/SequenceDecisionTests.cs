extern alias gen;
using Qtaml.Calibration;
using Qtaml.Generators.Tests.Generator;
using Qtaml.Generators.Tests.Support;
using CalibrationProfile = gen::Qtaml.Generators.Calibration.CalibrationProfile;
using NpyReader = gen::Qtaml.Generators.Calibration.NpyReader;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;
using SoftmaxLayer = gen::Qtaml.Generators.Network.SoftmaxLayer;

namespace Qtaml.Generators.Tests.Calibration;

// Inside the namespace, so the generator's layout is meant here, not the runtime's Qtaml.DecisionLayout.
using DecisionLayout = gen::Qtaml.Generators.Calibration.DecisionLayout;

/// <summary>
/// A network whose final softmax runs over the last axis of several rows (a CTC recogniser's [1, T, classes]) makes
/// one decision per row, as greedy decoding reads it: calibration, the fault simulation and the forecast follow those
/// decisions, not one arg max over every row's scores at once.
/// </summary>
public class SequenceDecisionTests
{
    internal const int Steps = 12, Features = 8, Classes = 6, Rows = 24;

    /// <summary>A token-wise two-layer network ending in a softmax over each of 12 rows of 6 classes.</summary>
    internal static byte[] Recogniser() => new OnnxModelBuilder(new long[] { 1, Steps, Features }, seed: 21)
        .MatMulAdd(Features, 16, 0.6).Relu().MatMulAdd(16, Classes, 0.6)
        .Node("Softmax", Array.Empty<string>(), OnnxModelBuilder.Int("axis", 2))
        .Build(new long[] { 1, Steps, Classes });

    private static float[] CalibrationRows() =>
        Enumerable.Range(0, Rows).SelectMany(r => TestModels.Input(Steps * Features, 500 + r).Select(v => 2 * v - 1)).ToArray();

    [Fact]
    public void A_final_softmax_over_rows_makes_one_decision_per_row()
    {
        var graph = OnnxReader.Read("rec.onnx", Recogniser());
        DecisionLayout layout = DecisionLayout.Of(graph);
        var softmax = Assert.IsType<SoftmaxLayer>(graph.Layers[graph.OutputValue - 1]);
        Assert.Equal(softmax.Inputs[0], layout.Value);   // the logits: the softmax keeps each row's arg max
        Assert.Equal(Steps, layout.Positions);
        Assert.Equal(Classes, layout.Classes);

        // A classifier (no softmax over rows) makes one decision over its whole first output.
        var classifier = OnnxReader.Read("digits-cnn.onnx", File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", "digits-cnn.onnx")));
        DecisionLayout one = DecisionLayout.Of(classifier);
        Assert.Equal(1, one.Positions);
        Assert.Equal(10, one.Classes);
    }

    [Fact]
    public void Calibration_records_every_rows_decision_and_follows_four_random_rows_of_each_input()
    {
        var graph = OnnxReader.Read("rec.onnx", Recogniser());
        var profile = CalibrationProfile.Measure(graph, NpyReader.Read(NpyFile.ToBytes(CalibrationRows(), Rows, Steps * Features), Rows), TestContext.Current.CancellationToken);
        Assert.Equal(Rows, profile.Samples);

        // Every row's decision is the float network's arg max of that row.
        for (int s = 0; s < Rows; s++)
        {
            double[] logits = profile.Evaluator.Run(profile.Inputs[s])[profile.Decision.Value];
            int[] expected = Enumerable.Range(0, Steps).Select(q => Enumerable.Range(0, Classes).OrderByDescending(c => logits[q * Classes + c]).ThenBy(c => c).First()).ToArray();
            Assert.Equal(expected, profile.Decisions[s]);
        }
        Assert.True(profile.Decisions.SelectMany(d => d).Distinct().Count() >= 3, "the rows should choose among several classes, or per-row decisions would not be told from one");

        // The forecast follows 4 rows per input, each with 4 classes: 16 backward sweeps and one projection over the rest.
        var model = Assert.IsType<gen::Qtaml.Generators.Calibration.AgreementModel>(profile.Agreement);
        Assert.Equal(Rows, model.Inputs);
        Assert.Equal(Rows * CalibrationProfile.TrackedPositions, model.Decisions);
        Assert.Equal(CalibrationProfile.TrackedPositions, profile.RowsPerInput);
        Assert.Equal(17, CalibrationProfile.Sweeps(profile.Decision, profile.RowsPerInput));
        Assert.Equal(CalibrationProfile.PassCost(graph) * 35, CalibrationProfile.CostPerInput(graph, profile.Decision, profile.RowsPerInput));
    }

    [Fact]
    public void A_network_too_large_for_four_rows_on_eight_inputs_follows_as_many_rows_as_fit_and_at_least_one()
    {
        var graph = OnnxReader.Read("rec.onnx", Recogniser());
        DecisionLayout layout = DecisionLayout.Of(graph);
        long pass = CalibrationProfile.PassCost(graph);
        // 8 inputs at 2 rows: a forward pass and 2 · (2 · 4 + 1) sweep passes each.
        long twoRows = CalibrationProfile.MinSamples * pass * (1 + 2 * 9);
        Assert.Equal(4, CalibrationProfile.Positions(graph, layout, CalibrationProfile.MinSamples * pass * (1 + 2 * 17)));
        Assert.Equal(2, CalibrationProfile.Positions(graph, layout, twoRows));
        Assert.Equal(1, CalibrationProfile.Positions(graph, layout, twoRows - 1));
        Assert.Equal(1, CalibrationProfile.Positions(graph, layout, 1));
        var profile = CalibrationProfile.Measure(graph, NpyReader.Read(NpyFile.ToBytes(CalibrationRows(), Rows, Steps * Features), Rows), TestContext.Current.CancellationToken, work: twoRows);
        Assert.Equal(2, profile.RowsPerInput);
        Assert.Equal(profile.Samples * 2, Assert.IsType<gen::Qtaml.Generators.Calibration.AgreementModel>(profile.Agreement).Decisions);
    }

    [Fact]
    public void The_rows_followed_are_a_seeded_draw_without_replacement_that_covers_every_row()
    {
        var layout = new DecisionLayout(1, Steps, Classes);
        var seen = new int[Steps];
        for (int input = 0; input < 300; input++)
        {
            int[] chosen = CalibrationProfile.ChosenPositions(layout, CalibrationProfile.TrackedPositions, 0x5EED, input);
            Assert.Equal(CalibrationProfile.TrackedPositions, chosen.Distinct().Count());
            Assert.All(chosen, q => Assert.InRange(q, 0, Steps - 1));
            Assert.Equal(chosen, CalibrationProfile.ChosenPositions(layout, CalibrationProfile.TrackedPositions, 0x5EED, input));
            foreach (int q in chosen) seen[q]++;
        }
        // Uniform: each row is drawn 300·4/12 = 100 times in expectation, binomial sd √(1200·(1/12)·(11/12)) ≈ 9.6;
        // ±4.5 sd (a bound a fixed seed meets with room) is 57 to 143.
        Assert.All(seen, n => Assert.InRange(n, 57, 143));

        // No more rows than are followed: all, in order.
        Assert.Equal(new[] { 0, 1, 2 }, CalibrationProfile.ChosenPositions(new DecisionLayout(1, 3, Classes), 4, 0x5EED, 7));
    }

    [Fact]
    public void A_calibrated_build_of_a_recogniser_forecasts_its_rows_decisions()
    {
        byte[] model = Recogniser();
        const string Source = "using Qtaml;\n[TunnelingCompensated(\"Models/rec.onnx\", Node = \"2nm\", EccBudget = 1.0, Calibration = \"Models/rows.npy\")] public sealed partial class Rec { }";
        var run = GeneratorHarness.Run(Source, new[]
        {
            GeneratorHarness.WeightFile("Models/rec.onnx", model),
            GeneratorHarness.WeightFile("Models/rows.npy", NpyFile.ToBytes(CalibrationRows(), Rows, Steps * Features)),
        });
        Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        Assert.Contains("Predicted share of decisions (the arg max of each of the output's 12 rows) that survive the faults", run.Run.Results.Single().GeneratedSources.Single().SourceText.ToString(), StringComparison.Ordinal);
        var info = (ModelInfo)GeneratorHarness.CompileAndLoad(run.Output).GetType("Rec")!.GetProperty("Info")!.GetValue(null)!;
        AgreementForecast forecast = Assert.IsType<AgreementForecast>(info.Forecast);
        Assert.Equal(Rows, forecast.Samples);
        Assert.InRange(forecast.PredictedAgreement, 0, 1);
    }
}
