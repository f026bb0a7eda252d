using Qtaml.Faults;
using Qtaml.Generators.Tests.Support;
using Qtaml.Moments;
using Qtaml.Physics;

namespace Qtaml.Generators.Tests.Runtime;

/// <summary>DESIGN 3.4: the closed-form mean and variance of a read code, checked against injected faults.</summary>
public class ErrorMomentTests
{
    private const int Samples = 1_000_000;

    public static TheoryData<int, double, double, int> Configurations()
    {
        var data = new TheoryData<int, double, double, int>();
        foreach (int bits in new[] { 4, 8, 12 })
            foreach ((double p10, double p01) in new[] { (0.1, 0.1), (0.12, 0.03), (0.003, 0.0) })
                foreach (int protectedCount in new[] { 0, 1, bits / 2 })
                    data.Add(bits, p10, p01, protectedCount);
        return data;
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Closed_form_mean_and_variance_of_a_read_code_agree_with_a_million_injected_reads(int bits, double p10, double p01, int protectedCount)
    {
        var flips = new FlipProbabilities(p10, p01);
        int protectedMask = StoredCode.TopPlanesMask(bits, protectedCount);
        var random = new Random(1000 * bits + protectedCount);
        for (int trial = 0; trial < 3; trial++)
        {
            int code = random.Next(StoredCode.MinCode(bits), StoredCode.MaxCode(bits) + 1);
            // One layer of a million copies of the code: each copy is an independent read.
            var image = WeightImage.FromCodes(bits, new[] { "layer" }, new[] { Enumerable.Repeat(code, Samples).ToArray() });
            new TunnelingFaultModel(flips).Inject(image, new[] { protectedCount }, seed: (ulong)(trial + 17 * bits));

            double sum = 0, sumSquares = 0;
            for (int i = 0; i < Samples; i++)
            {
                double read = image.GetCode(0, i);
                sum += read;
                sumSquares += read * read;
            }
            double mean = sum / Samples;
            double variance = (sumSquares - Samples * mean * mean) / (Samples - 1);

            ErrorMoment expected = ErrorMoments.Read(code, bits, protectedMask, flips);
            double fourth = FourthCentralMoment(code, bits, protectedMask, flips);
            Assert.True(Math.Abs(mean - expected.Mean) <= Sigma.MeanBand(expected.Variance, Samples) + 1e-12,
                $"code {code}: Monte Carlo mean {mean}, closed form {expected.Mean}");
            Assert.True(Math.Abs(variance - expected.Variance) <= Sigma.VarianceBand(expected.Variance, fourth, Samples) + 1e-12,
                $"code {code}: Monte Carlo variance {variance}, closed form {expected.Variance}");
        }
    }

    /// <summary>
    /// μ4 of a sum of independent scaled Bernoulli bits: Σ_k κ4_k + 3σ⁴, with the fourth cumulant of
    /// w·Bernoulli(π) equal to w⁴·π(1 − π)(1 − 6π(1 − π)).
    /// </summary>
    private static double FourthCentralMoment(int code, int bits, int protectedMask, FlipProbabilities flips)
    {
        double cumulants = 0, variance = 0;
        for (int k = 0; k < bits; k++)
        {
            if ((protectedMask & (1 << k)) != 0) continue;
            double w = StoredCode.BitWeight(k, bits), pi = ErrorMoments.ReadsOneProbability(code, k, flips), v = pi * (1 - pi);
            cumulants += Math.Pow(w, 4) * v * (1 - 6 * v);
            variance += w * w * v;
        }
        return cumulants + 3 * variance * variance;
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(12)]
    [InlineData(16)]
    public void Without_protection_the_read_mean_is_exactly_affine_in_the_stored_code(int bits)
    {
        var flips = new FlipProbabilities(0.13, 0.04);
        for (int code = StoredCode.MinCode(bits); code <= StoredCode.MaxCode(bits); code++)
        {
            double expected = flips.Contraction * code - flips.P01;
            Assert.True(Math.Abs(ErrorMoments.ReadMean(code, bits, 0, flips) - expected) <= 1e-12 * Math.Max(1, Math.Abs(code)));
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(12)]
    public void The_most_significant_plane_carries_about_three_quarters_of_the_variance(int bits)
    {
        FlipProbabilities flips = FlipProbabilities.Symmetric(0.1);
        int allButMsb = StoredCode.TopPlanesMask(bits, bits) & ~(1 << (bits - 1));   // protect all planes except the MSB
        double msbOnly = ErrorMoments.ReadVariance(0, bits, allButMsb, flips);
        double total = ErrorMoments.ReadVariance(0, bits, 0, flips);
        double share = msbOnly / total;
        Assert.Equal(ErrorMoments.MostSignificantPlaneShare(bits), share, 12);
        Assert.InRange(share, 0.75, 0.75 + 3.0 / (4 * (Math.Pow(4, bits) - 1)) + 1e-12);   // 3·4^{b−1}/(4^b − 1) → 3/4 from above
        // Protecting the MSB therefore leaves only the other quarter of the variance.
        double afterMsb = ErrorMoments.ReadVariance(0, bits, StoredCode.TopPlanesMask(bits, 1), flips);
        Assert.Equal(1 - share, afterMsb / total, 12);
    }

    [Fact]
    public void Linear_layer_output_error_moments_agree_with_injected_faults()
    {
        const int bits = 8, inputs = 64, trials = 40_000;
        var flips = new FlipProbabilities(0.1, 0.02);
        var random = new Random(5);
        int[] row = Enumerable.Range(0, inputs).Select(_ => random.Next(-128, 128)).ToArray();
        double[] x = Enumerable.Range(0, inputs).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        const double scale = 0.01;
        int protectedCount = 1, protectedMask = StoredCode.TopPlanesMask(bits, protectedCount);

        ErrorMoment expected = ErrorMoments.LinearOutputError(row, x, scale, bits, protectedMask, flips);

        var clean = WeightImage.FromCodes(bits, new[] { "row" }, new[] { row });
        WeightImage image = clean.Clone();
        var model = new TunnelingFaultModel(flips);
        double sum = 0, sumSquares = 0;
        for (int t = 0; t < trials; t++)
        {
            image.CopyFrom(clean);
            model.Inject(image, new[] { protectedCount }, (ulong)t);
            double error = 0;
            for (int j = 0; j < inputs; j++) error += scale * (image.GetCode(0, j) - row[j]) * x[j];
            sum += error;
            sumSquares += error * error;
        }
        double mean = sum / trials, variance = (sumSquares - trials * mean * mean) / (trials - 1);
        Assert.True(Math.Abs(mean - expected.Mean) <= Sigma.MeanBand(expected.Variance, trials), $"mean {mean} vs {expected.Mean}");
        // The output error is a sum of 64 independent terms: close to normal, so Var(s²) ≈ 2σ⁴/(n − 1); 4σ of that.
        Assert.True(Math.Abs(variance - expected.Variance) <= Sigma.Bands * expected.Variance * Math.Sqrt(2.0 / (trials - 1)) * 1.1,
            $"variance {variance} vs {expected.Variance}");
    }
}
