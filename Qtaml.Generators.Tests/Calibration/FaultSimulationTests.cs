extern alias gen;
using Qtaml.Generators.Tests.Support;
using Allocator = gen::Qtaml.Tac.Allocator;
using CodeEncoding = gen::Qtaml.Moments.CodeEncoding;
using FlipProbabilities = gen::Qtaml.Physics.FlipProbabilities;
using CalibrationProfile = gen::Qtaml.Generators.Calibration.CalibrationProfile;
using FaultSimulation = gen::Qtaml.Generators.Calibration.FaultSimulation;
using NpyReader = gen::Qtaml.Generators.Calibration.NpyReader;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;
using PlanDesigner = gen::Qtaml.Generators.Planning.PlanDesigner;
using WeightLayer = gen::Qtaml.Generators.Network.WeightLayer;

namespace Qtaml.Generators.Tests.Calibration;

/// <summary>
/// The build's fault simulation (what the forecast's κ is fitted to) runs its first trials, then adds batches while
/// their shares disagree by more than ±2 points (95%), up to its budget: a network whose trials either keep their
/// decisions or collapse is measured as well as one whose trials agree, and one whose trials agree costs no more.
/// </summary>
public class FaultSimulationTests
{
    private static (CalibrationProfile Profile, PlanDesigner Designer) SampleCnn()
    {
        var graph = OnnxReader.Read("digits-cnn.onnx", File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", "digits-cnn.onnx")));
        var rows = NpyReader.Read(File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", "calibration.npy")), CalibrationProfile.MaxSamples);
        CalibrationProfile profile = CalibrationProfile.Measure(graph, rows, TestContext.Current.CancellationToken);
        var designer = new PlanDesigner(graph.Layers.OfType<WeightLayer>().ToArray(), profile.Sensitivity, 8, new FlipProbabilities(0.1, 0.1), CodeEncoding.SignMagnitude);
        return (profile, designer);
    }

    [Fact]
    public void Trials_that_disagree_are_extended_until_the_share_is_sure_within_two_points_or_the_budget_ends()
    {
        (CalibrationProfile profile, PlanDesigner designer) = SampleCnn();
        int first = FaultSimulation.Trials(profile), most = FaultSimulation.MostTrials(profile);
        Assert.Equal(32, first);        // the CNN is cheap: the most first trials, over 128 inputs
        Assert.InRange(most, 33, 512);

        // TAC at 1/8 bit/weight, p = 0.1: a trial's flips in the few protected-short layers move all of its inputs
        // together, so 32 trials leave the share unsure by more than 2 points and the simulation goes on (measured
        // 2026-12-04: 48 trials, 83.5% ± 1.8 points).
        var unsure = FaultSimulation.Agreement(profile, designer, designer.Design(Allocator.Tac, 0.125), 0x51_3D, TestContext.Current.CancellationToken);
        Assert.True(unsure.Trials > first, $"{unsure.Trials} trials, ±{unsure.HalfWidth:P1}");
        Assert.True(unsure.HalfWidth <= FaultSimulation.SureHalfWidth || unsure.Trials == most, $"{unsure.Trials} trials, ±{unsure.HalfWidth:P1}");
        Assert.Equal(0, (unsure.Trials - first) % 8);   // whole batches

        // Every plane protected, nothing flips: every trial keeps the same decisions, sure at the first trials.
        var sure = FaultSimulation.Agreement(profile, designer, designer.Design(Allocator.Tac, 8), 0x51_3D, TestContext.Current.CancellationToken);
        Assert.Equal(first, sure.Trials);
        Assert.Equal(0, sure.HalfWidth);
    }

    [Fact]
    public void The_half_width_is_the_normal_interval_of_the_mean_over_trials()
    {
        // Shares 0.2, 0.4, 0.6, 0.8: mean 0.5, sample sd √(0.2/3) = 0.2582, half-width 1.96 · 0.2582 / 2 = 0.2530.
        Assert.Equal(0.2530, FaultSimulation.HalfWidth(new[] { 0.2, 0.4, 0.6, 0.8 }), 4);
        Assert.Equal(double.PositiveInfinity, FaultSimulation.HalfWidth(new[] { 0.5 }));
    }
}
