using Qtaml.Physics;

namespace Qtaml.Generators.Tests.Runtime;

public class RetentionModelTests
{
    [Fact]
    public void Without_reverse_leak_p10_is_one_minus_exp_of_minus_a_t()
    {
        FlipProbabilities flips = RetentionModel.FlipProbabilities(12.5, 0, 0.064);
        Assert.Equal(1 - Math.Exp(-12.5 * 0.064), flips.P10, 15);
        Assert.Equal(0, flips.P01);
    }

    [Fact]
    public void Two_state_chain_matches_its_closed_form_and_settles_at_equilibrium()
    {
        double a = 3.0, eta = 0.4, b = eta * a, t = 0.2;
        FlipProbabilities flips = RetentionModel.FlipProbabilities(a, eta, t);
        Assert.Equal(a / (a + b) * (1 - Math.Exp(-(a + b) * t)), flips.P10, 15);
        Assert.Equal(b / (a + b) * (1 - Math.Exp(-(a + b) * t)), flips.P01, 15);

        FlipProbabilities settled = RetentionModel.FlipProbabilities(a, eta, 8.0);
        Assert.Equal(a / (a + b), settled.P10, 9);   // a stored 1 ends at the equilibrium occupancy of 0
    }

    [Fact]
    public void Tiny_rates_keep_full_relative_precision()
    {
        FlipProbabilities flips = RetentionModel.FlipProbabilities(1e-12, 0, 1.0);
        Assert.True(Math.Abs(flips.P10 - 1e-12) / 1e-12 < 1e-9);
    }

    [Fact]
    public void Explicit_symmetric_probability_overrides_the_physics()
    {
        FlipProbabilities flips = FlipProbabilities.Symmetric(0.1);
        Assert.Equal(0.1, flips.P10);
        Assert.Equal(0.1, flips.P01);
        Assert.Equal(0.8, flips.Contraction, 15);
        Assert.Throws<ArgumentOutOfRangeException>(() => FlipProbabilities.Symmetric(0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlipProbabilities(0.7, 0.3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FlipProbabilities(-0.1, 0));
    }
}
