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
/// cost more multiply-adds than the build's budget; then on as many as it affords, never fewer than 8, and the build
/// says so (QTAML029) with the numbers behind it.
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
    public void A_network_beyond_the_budget_uses_the_inputs_it_affords_and_QTAML029_says_how_many_and_why()
    {
        (NetworkGraph graph, var rows) = SampleCnn();
        // The CNN's decision is 10 classes: 4 tracked + 1 projection = 5 backward sweeps, so an input costs 11 passes.
        long perInput = CalibrationProfile.PassCost(graph) * 11;
        Assert.Equal(perInput, CalibrationProfile.CostPerInput(graph, gen::Qtaml.Generators.Calibration.DecisionLayout.Of(graph), 1));

        CalibrationProfile profile = CalibrationProfile.Measure(graph, rows, TestContext.Current.CancellationToken, work: perInput * 40 + perInput / 2);
        Assert.Equal(40, profile.Samples);
        Assert.Equal(256, profile.Offered);

        // Never fewer than 8, however small the budget.
        Assert.Equal(8, CalibrationProfile.Measure(graph, rows, TestContext.Current.CancellationToken, work: 1).Samples);

        string message = ModelCompiler.Subsampled(profile, Argument.Calibration, "Models/calibration.npy").Message;
        Assert.StartsWith("Calibration used the first 40 of the 256 inputs of 'Models/calibration.npy': one input costs " + perInput.ToString("G3", System.Globalization.CultureInfo.InvariantCulture) + " multiply-adds", message);
        Assert.Contains("(a forward pass and 5 backward sweeps)", message);
        Assert.Contains("one standard error of a 95% share is 3.4 points", message);   // √(0.95·0.05/40)
    }
}
