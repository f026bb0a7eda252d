using Qtaml.Faults;
using Qtaml.Generators.Tests.Support;
using Qtaml.Moments;
using Qtaml.Physics;

namespace Qtaml.Generators.Tests.Runtime;

/// <summary>
/// Flips through a retention window (DESIGN 3.2): the flips at any moment follow the two-state chain from the
/// end-of-window figures, the window average equals the integral of the chain over the window, and the mean code
/// read at a moment drawn uniformly over the window is the closed-form mean at the averaged flips (to Monte Carlo
/// precision, 4 sigma), which is why a build compensates for it.
/// </summary>
public class RetentionWindowTests
{
    public static TheoryData<double, double, double> Chains => new()
    {
        { 1.646, 0.0, 0.064 },    // the 2nm anchor: a·t_R = −ln 0.9
        { 3.0, 0.5, 0.1 },        // a reverse leak: η = 1/2
        { 1e-3, 1.0, 0.01 },      // tiny rates: the series branches
        { 40.0, 0.2, 0.05 },      // a window in which the chain nearly settles
    };

    [Theory]
    [MemberData(nameof(Chains))]
    public void A_moment_of_the_window_is_the_chain_at_that_time(double leakRate, double eta, double window)
    {
        FlipProbabilities end = RetentionModel.FlipProbabilities(leakRate, eta, window);
        foreach (double f in new[] { 0.0, 0.1, 0.37, 0.5, 0.9, 1.0 })
        {
            FlipProbabilities now = RetentionModel.AtMoment(end, f), chain = RetentionModel.FlipProbabilities(leakRate, eta, f * window);
            Assert.Equal(chain.P10, now.P10, 1e-12 * Math.Max(chain.P10, 1e-300) + 1e-300);
            Assert.Equal(chain.P01, now.P01, 1e-12 * Math.Max(chain.P01, 1e-300) + 1e-300);
        }
        Assert.Equal(FlipProbabilities.None, RetentionModel.AtMoment(end, 0));
    }

    [Theory]
    [MemberData(nameof(Chains))]
    public void The_window_average_is_the_integral_of_the_chain_over_the_window(double leakRate, double eta, double window)
    {
        FlipProbabilities end = RetentionModel.FlipProbabilities(leakRate, eta, window), average = RetentionModel.WindowAverage(end);
        // Simpson's rule on 2,000 intervals: exact to ~1e-13 for these smooth exponentials.
        const int n = 2000;
        double p10 = 0, p01 = 0;
        for (int i = 0; i <= n; i++)
        {
            double weight = i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2;
            FlipProbabilities at = RetentionModel.FlipProbabilities(leakRate, eta, window * i / n);
            p10 += weight * at.P10;
            p01 += weight * at.P01;
        }
        p10 /= 3 * n;
        p01 /= 3 * n;
        Assert.Equal(p10, average.P10, 1e-10 * Math.Max(p10, 1e-300));
        Assert.Equal(p01, average.P01, 1e-10 * Math.Max(p01, 1e-300) + 1e-300);
        Assert.True(average.P10 < end.P10 && average.P10 > end.P10 / 2 * 0.9, "the average lies between half the end and the end");
    }

    [Fact]
    public void The_mean_code_read_at_a_random_moment_is_the_closed_form_at_the_averaged_flips()
    {
        // 2nm: p10 = 0.10 at the end of the window, η = 0. Each trial reads one stored code at a moment drawn
        // uniformly over the window; its mean over many trials is E[q~] at the window-averaged p10.
        FlipProbabilities end = NodePresets.Get("2nm").FlipProbabilities, average = RetentionModel.WindowAverage(end);
        const int bits = 8, trials = 400_000;
        var random = new Random(20261125);
        foreach (int code in new[] { -101, -3, 0, 5, 77, 127 })
        {
            double sum = 0, squares = 0;
            for (int t = 0; t < trials; t++)
            {
                FlipProbabilities now = RetentionModel.AtMoment(end, random.NextDouble());
                int read = 0;
                for (int k = 0; k < bits; k++)
                {
                    bool one = StoredCode.BitIsSet(code, k);
                    if (one ? random.NextDouble() >= now.P10 : random.NextDouble() < now.P01) read += StoredCode.BitWeight(k, bits);
                }
                sum += read;
                squares += (double)read * read;
            }
            double mean = sum / trials, variance = squares / trials - mean * mean;
            double expected = ErrorMoments.ReadMean(code, bits, 0, average);
            Assert.True(Math.Abs(mean - expected) <= Sigma.MeanBand(variance, trials), $"code {code}: Monte Carlo mean {mean}, closed form at the averaged flips {expected}");
        }
    }

    [Fact]
    public void A_compiled_models_fault_model_follows_its_window_or_its_static_probability()
    {
        var node = new ModelInfo("m.onnx", "2nm", 8, 0.0509, 0, 1, 0, 0, 1, 0, 0, Array.Empty<LayerInfo>(), Qtaml.Tac.Allocator.Tac, Qtaml.Physics.CompensationPoint.WindowAverage, 0.1, 0);
        Assert.Equal(0.0, TunnelingFaultModel.ForModel(node, 0).Flips.P10);
        Assert.Equal(0.1, TunnelingFaultModel.ForModel(node).Flips.P10, 1e-15);
        Assert.Equal(1 - Math.Sqrt(0.9), TunnelingFaultModel.ForModel(node, 0.5).Flips.P10, 1e-15);
        var fixedP = new ModelInfo("m.onnx", "2nm (symmetric p = 0.1)", 8, 0.1, 0.1, 1, 0, 0, 1, 0, 0, Array.Empty<LayerInfo>());
        Assert.False(fixedP.HasWindow);
        Assert.Equal(FlipProbabilities.Symmetric(0.1), TunnelingFaultModel.ForModel(fixedP, 0.3).Flips);
    }
}
