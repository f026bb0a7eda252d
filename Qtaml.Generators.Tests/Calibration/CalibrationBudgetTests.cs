extern alias gen;
using Qtaml.Generators.Tests.Support;
using Argument = gen::Qtaml.Generators.Model.Argument;
using CalibrationProfile = gen::Qtaml.Generators.Calibration.CalibrationProfile;
using ModelCompiler = gen::Qtaml.Generators.Planning.ModelCompiler;
using NetworkGraph = gen::Qtaml.Generators.Network.NetworkGraph;
using NpyReader = gen::Qtaml.Generators.Calibration.NpyReader;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;

namespace Qtaml.Generators.Tests.Calibration;

/// <summary>
/// Calibration's cost is bounded: a network is calibrated on every input the file gives (up to 256) unless that would
/// cost more multiply-adds than the build's budget; then it follows every input's decisions it affords (a forward pass
/// each) and takes the gradients of the first ones (a few backward sweeps each), never fewer than 8 of either, and the
/// build says so (QTAML029) with the numbers behind it.
/// </summary>
public class CalibrationBudgetTests
{
    private static (NetworkGraph Graph, gen::Qtaml.Generators.Calibration.NpyArray Rows) SampleCnn() =>
        (OnnxReader.Read("digits-cnn.onnx", File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", "digits-cnn.onnx"))),
         NpyReader.Read(File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", "calibration.npy")), CalibrationProfile.MaxSamples));

    [Fact]
    public void A_network_within_the_budget_is_calibrated_on_every_input()
    {
        (NetworkGraph graph, var rows) = SampleCnn();
        CalibrationProfile profile = CalibrationProfile.Measure(graph, rows, TestContext.Current.CancellationToken);
        Assert.Equal(256, profile.Offered);
        Assert.Equal(256, profile.Samples);
    }

    [Fact]
    public void A_network_beyond_the_gradient_budget_follows_every_decision_and_takes_the_gradients_it_affords()
    {
        (NetworkGraph graph, var rows) = SampleCnn();
        // The CNN's decision is 10 classes: 4 tracked + 1 projection = 5 backward sweeps, so an input's gradients
        // cost 10 passes beyond its forward pass.
        long pass = CalibrationProfile.PassCost(graph), perInput = pass * 11;
        Assert.Equal(perInput, CalibrationProfile.CostPerInput(graph, gen::Qtaml.Generators.Calibration.DecisionLayout.Of(graph), 1));

        // Every input's forward pass and 40 inputs' sweeps.
        CalibrationProfile profile = CalibrationProfile.Measure(graph, rows, TestContext.Current.CancellationToken, work: 256 * pass + 40 * 10 * pass + pass / 2);
        Assert.Equal((256, 40, 256), (profile.Samples, profile.Swept, profile.Offered));
        Assert.Equal(256, Assert.IsType<gen::Qtaml.Generators.Calibration.AgreementModel>(profile.Agreement).Decisions);

        // The sensitivities are those of the first 40 inputs, bit for bit: the other decisions add margins, not gradients.
        var first40 = new gen::Qtaml.Generators.Calibration.NpyArray(new[] { 40, graph.InputLength },
            Enumerable.Range(0, 40).SelectMany(r => rows.Row(r).Select(v => (float)v)).ToArray());
        Assert.Equal(CalibrationProfile.Measure(graph, first40, TestContext.Current.CancellationToken).Sensitivity, profile.Sensitivity);

        string message = ModelCompiler.Subsampled(profile, Argument.Calibration, "Models/calibration.npy").Message;
        Assert.StartsWith("Calibration followed the decisions of the first 256 of the 256 inputs of 'Models/calibration.npy' and took the float network's gradients on the first 40 of them: one input's decisions cost a forward pass of "
            + pass.ToString("G3", System.Globalization.CultureInfo.InvariantCulture) + " multiply-adds", message);
        Assert.Contains("its gradients 5 backward sweeps more", message);
        Assert.Contains("one standard error of a 95% share is 1.4 points", message);   // √(0.95·0.05/256)
        Assert.Contains("its sensitivities on 40", message);
    }

    [Fact]
    public void A_network_beyond_the_whole_budget_follows_fewer_decisions_never_fewer_than_8_with_their_gradients()
    {
        (NetworkGraph graph, var rows) = SampleCnn();
        long pass = CalibrationProfile.PassCost(graph), perInput = pass * 11;
        // The gradients of 8 inputs come first; the 20 passes left follow 20 more inputs' decisions.
        CalibrationProfile profile = CalibrationProfile.Measure(graph, rows, TestContext.Current.CancellationToken, work: 8 * perInput + 20 * pass + pass / 2);
        Assert.Equal((28, 8), (profile.Samples, profile.Swept));
        Assert.StartsWith("Calibration followed the decisions of the first 28 of the 256 inputs", ModelCompiler.Subsampled(profile, Argument.Calibration, "c.npy").Message);

        // Never fewer than 8, however small the budget.
        CalibrationProfile least = CalibrationProfile.Measure(graph, rows, TestContext.Current.CancellationToken, work: 1);
        Assert.Equal((8, 8), (least.Samples, least.Swept));
    }
}
