using Qtaml.Faults;

namespace Qtaml.Generators.Tests.Runtime;

/// <summary>
/// Campaign statistics that stay in [0, 1] and say what the decisions resolve: the exact Clopper–Pearson interval
/// against its closed forms and published values, and a share's interval never narrower than it nor outside [0, 1].
/// </summary>
public class BinomialIntervalTests
{
    [Theory]
    // k = 0 and k = n have closed forms: 1 − 0.025^(1/n) and 0.025^(1/n).
    [InlineData(0, 10, 0.0, 0.30849710)]
    [InlineData(10, 10, 0.69150290, 1.0)]
    [InlineData(0, 180, 0.0, 0.02028520)]
    // Published values (R's binom.test): 5 of 10, 1 of 20.
    [InlineData(5, 10, 0.18708603, 0.81291397)]
    [InlineData(1, 20, 0.00126509, 0.24873276)]
    public void Clopper_Pearson_matches_exact_values(long k, long n, double lower, double upper)
    {
        (double low, double high) = BinomialInterval.ClopperPearson95(k, n);
        Assert.Equal(lower, low, 6);
        Assert.Equal(upper, high, 6);
    }

    [Fact]
    public void The_exact_interval_leaves_2_5_percent_in_each_tail()
    {
        // At the lower end, k or more successes are 2.5% likely; at the upper end, k or fewer: checked by summing the pmf.
        const int n = 300, k = 287;
        (double low, double high) = BinomialInterval.ClopperPearson95(k, n);
        static double Pmf(int i, int n, double p) => Math.Exp(LogChoose(n, i) + i * Math.Log(p) + (n - i) * Math.Log(1 - p));
        static double LogChoose(int n, int i) => Enumerable.Range(1, i).Sum(j => Math.Log(n - i + j) - Math.Log(j));
        Assert.Equal(0.025, Enumerable.Range(k, n - k + 1).Sum(i => Pmf(i, n, low)), 6);
        Assert.Equal(0.025, Enumerable.Range(0, k + 1).Sum(i => Pmf(i, n, high)), 6);
    }

    [Fact]
    public void Three_scattered_trials_give_a_share_interval_inside_0_and_1()
    {
        // The case: three trials far apart, whose t interval (27.50% ± 67.70%) left [0, 1].
        var result = new CampaignResult(new[] { 0.0, 0.2, 0.625 }, decisionsPerTrial: 40);
        Assert.True(result.Mean - result.HalfWidth95 < 0, "the t interval alone would go below 0");
        Assert.Equal(0, result.Lower95);
        Assert.InRange(result.Upper95, result.Mean, 1);
        Assert.Contains("to", result.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_share_interval_is_never_narrower_than_the_decisions_resolve()
    {
        // Identical trials have no spread: the interval is then the exact one over all 3 x 60 decisions.
        var result = new CampaignResult(new[] { 57 / 60.0, 57 / 60.0, 57 / 60.0 }, decisionsPerTrial: 60);
        (double low, double high) = BinomialInterval.ClopperPearson95(171, 180);
        Assert.Equal(low, result.Lower95, 12);
        Assert.Equal(high, result.Upper95, 12);
        Assert.Throws<ArgumentException>(() => new CampaignResult(new[] { 1.2 }, decisionsPerTrial: 10));
    }
}
