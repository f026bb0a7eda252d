using Qtaml.Physics;

namespace Qtaml.Generators.Tests.Runtime;

public class NodePresetTests
{
    // DESIGN section 7: T (WKB) and p10 at 64 ms, to 3 significant figures.
    [Theory]
    [InlineData("7nm", 2.04e-6, 0.0044)]
    [InlineData("5nm", 6.57e-6, 0.0142)]
    [InlineData("3nm", 1.90e-5, 0.0405)]
    [InlineData("2nm", 4.83e-5, 0.100)]
    [InlineData("A14", 1.27e-4, 0.241)]
    public void Preset_transmission_and_flip_probability_match_the_design_table(string name, double transmission, double p10)
    {
        NodePreset node = NodePresets.Get(name);
        Assert.Equal(transmission, RoundToSignificant(node.Transmission, 3));
        Assert.Equal(p10, RoundToSignificant(node.FlipProbabilities.P10, p10 < 0.01 ? 2 : 3));
        Assert.Equal(0, node.FlipProbabilities.P01);
    }

    [Fact]
    public void Attempt_rate_is_solved_so_that_2nm_leaks_p10_of_0_100_in_64_ms()
    {
        NodePreset node = NodePresets.Get("2nm");
        Assert.Equal(0.100, node.FlipProbabilities.P10, 12);
        Assert.Equal(-Math.Log(0.9) / (0.064 * node.Transmission), NodePresets.CalibratedAttemptRateHz, 6);
    }

    [Fact]
    public void Every_preset_documents_what_is_published_and_what_is_calibration()
    {
        Assert.Equal(new[] { "7nm", "5nm", "3nm", "2nm", "A14" }, NodePresets.Names);
        foreach (NodePreset node in NodePresets.All)
        {
            Assert.Contains("Calibration", node.Provenance);
            Assert.Contains("nm", node.Provenance);
        }
        Assert.Contains("ASAP7", NodePresets.Get("7nm").Provenance);
    }

    [Fact]
    public void Unknown_node_lists_the_known_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => NodePresets.Get("1nm"));
        Assert.Contains("7nm, 5nm, 3nm, 2nm, A14", error.Message);
        Assert.True(NodePresets.TryGet("2NM", out _));
    }

    [Fact]
    public void Every_field_can_be_overridden()
    {
        NodePreset node = NodePresets.Get("2nm");
        // Twice the window: the survival probability squares.
        Assert.Equal(1 - 0.9 * 0.9, node.WithRetentionSeconds(0.128).FlipProbabilities.P10, 12);
        // A reverse leak gives p01 = eta·p10.
        FlipProbabilities withLeak = node.WithReverseLeakRatio(0.25).FlipProbabilities;
        Assert.Equal(0.25 * withLeak.P10, withLeak.P01, 15);
        Assert.True(node.WithHoldVolts(0.8).FlipProbabilities.P10 > node.FlipProbabilities.P10);
        Assert.True(node.WithStack(GateStack.SiO2HfO2(0.6, 1.5)).FlipProbabilities.P10 < node.FlipProbabilities.P10);
        Assert.Equal(0, node.WithAttemptRateHz(0).FlipProbabilities.P10);
    }

    private static double RoundToSignificant(double value, int digits)
    {
        double scale = Math.Pow(10, digits - 1 - (int)Math.Floor(Math.Log10(Math.Abs(value))));
        return Math.Round(value * scale) / scale;
    }
}
