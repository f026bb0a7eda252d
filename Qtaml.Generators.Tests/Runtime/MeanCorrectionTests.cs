using Qtaml.Faults;
using Qtaml.Generators.Tests.Support;
using Qtaml.Moments;
using Qtaml.Physics;
using Qtaml.Tac;

namespace Qtaml.Generators.Tests.Runtime;

/// <summary>DESIGN 3.5.1: mean correction at build time.</summary>
public class MeanCorrectionTests
{
    private const int Samples = 1_000_000;
    private const double Scale = 0.02;

    public static TheoryData<double, double> FlipModels => new() { { 0.1, 0.1 }, { 0.1, 0.0 }, { 0.15, 0.05 } };

    [Theory]
    [MemberData(nameof(FlipModels))]
    public void Without_protection_every_corrected_weight_reads_back_to_the_intended_weight_on_average(double p10, double p01)
    {
        const int bits = 8;
        var flips = new FlipProbabilities(p10, p01);
        foreach (int intended in new[] { -128, -77, -1, 0, 1, 42, 127 })
        {
            CorrectedLayer layer = MeanCorrection.Apply(Enumerable.Repeat(intended, Samples).ToArray(), bits, 0, flips);
            var image = WeightImage.FromCodes(bits, new[] { "w" }, new[] { layer.StoredCodes });
            new TunnelingFaultModel(flips).Inject(image, new[] { 0 }, seed: (ulong)(intended + 1000));

            double sum = 0;
            for (int i = 0; i < Samples; i++) sum += layer.Dequantize(image.GetCode(0, i), Scale);
            double mean = sum / Samples;

            // ŵ = (s/a)(q~ + p01): its variance is (s/a)²·Var[q~].
            double variance = Math.Pow(Scale * layer.ScaleFactor, 2) * ErrorMoments.ReadVariance(layer.StoredCodes[0], bits, 0, flips);
            Assert.True(Math.Abs(mean - Scale * intended) <= Sigma.MeanBand(variance, Samples),
                $"q = {intended}: Monte Carlo mean weight {mean}, intended {Scale * intended}");
        }
    }

    [Theory]
    [InlineData(8, 1, 0.1, 0.1)]
    [InlineData(8, 3, 0.1, 0.1)]
    [InlineData(8, 2, 0.1, 0.0)]
    [InlineData(4, 1, 0.12, 0.03)]
    public void With_protection_every_corrected_weight_reads_back_within_the_stated_residual_bound(int bits, int protectedCount, double p10, double p01)
    {
        var flips = new FlipProbabilities(p10, p01);
        // The bound, derived in MeanCorrection's remarks: the largest of half the gap between protected blocks,
        // ((2^r − 1)(p10 + p01) + 1)/2, and the edges, (2^r − 1)·max(p10, p01), with r = b − m unprotected planes.
        double r = (1 << (bits - protectedCount)) - 1;
        double bound = Math.Max((r * (p10 + p01) + 1) / 2, r * Math.Max(p10, p01));
        Assert.Equal(bound, MeanCorrection.WorstCaseResidual(bits, protectedCount, flips), 12);

        int protectedMask = StoredCode.TopPlanesMask(bits, protectedCount);
        var random = new Random(bits * 31 + protectedCount);
        for (int trial = 0; trial < 4; trial++)
        {
            int intended = random.Next(StoredCode.MinCode(bits), StoredCode.MaxCode(bits) + 1);
            CorrectedLayer layer = MeanCorrection.Apply(Enumerable.Repeat(intended, Samples).ToArray(), bits, protectedCount, flips);
            var image = WeightImage.FromCodes(bits, new[] { "w" }, new[] { layer.StoredCodes });
            new TunnelingFaultModel(flips).Inject(image, new[] { protectedCount }, seed: (ulong)trial);

            double sum = 0;
            for (int i = 0; i < Samples; i++) sum += image.GetCode(0, i);
            double mean = sum / Samples;
            double variance = ErrorMoments.ReadVariance(layer.StoredCodes[0], bits, protectedMask, flips);
            Assert.True(Math.Abs(mean - intended) <= bound + Sigma.MeanBand(variance, Samples),
                $"q = {intended}, stored {layer.StoredCodes[0]}: Monte Carlo mean code {mean}, bound {bound}");
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public void The_residual_bound_holds_for_every_code_and_every_protection_depth(int bits)
    {
        foreach (FlipProbabilities flips in new[] { FlipProbabilities.Symmetric(0.1), new FlipProbabilities(0.2, 0), new FlipProbabilities(0.05, 0.15) })
        {
            for (int m = 0; m <= bits; m++)
            {
                int mask = StoredCode.TopPlanesMask(bits, m);
                double bound = MeanCorrection.WorstCaseResidual(bits, m, flips), worst = 0, total = 0;
                CorrectedLayer layer = MeanCorrection.Apply(Enumerable.Range(StoredCode.MinCode(bits), 1 << bits).ToArray(), bits, m, flips);
                for (int i = 0; i < 1 << bits; i++)
                {
                    int intended = StoredCode.MinCode(bits) + i;
                    double readMean = layer.ScaleFactor * (ErrorMoments.ReadMean(layer.StoredCodes[i], bits, mask, flips) + layer.CodeOffset);
                    worst = Math.Max(worst, Math.Abs(readMean - intended));
                    total += Math.Abs(readMean - intended);
                }
                Assert.True(worst <= bound + 1e-9, $"b = {bits}, m = {m}, {flips}: residual {worst} exceeds the bound {bound}");
                // And correction helps: never a larger worst case than storing the plain code, and no larger
                // average drift (the extreme codes pin the worst case at the edges).
                if (m < bits)
                {
                    double[] uncorrected = Enumerable.Range(StoredCode.MinCode(bits), 1 << bits)
                        .Select(q => Math.Abs(ErrorMoments.ReadMean(q, bits, mask, flips) - q)).ToArray();
                    Assert.True(worst <= uncorrected.Max() + 1e-9, $"b = {bits}, m = {m}: corrected worst {worst}, uncorrected {uncorrected.Max()}");
                    // With few unprotected planes the reachable means are the plain codes' own; with four or more
                    // the correction finds strictly better codes.
                    bool strictlyBetter = bits - m >= 4;
                    Assert.True(strictlyBetter ? total < uncorrected.Sum() : total <= uncorrected.Sum() + 1e-9,
                        $"b = {bits}, m = {m}: corrected mean drift {total / (1 << bits)}, uncorrected {uncorrected.Average()}");
                }
            }
        }
    }

    [Fact]
    public void Correction_prefers_the_lower_variance_code_among_equally_close_ones()
    {
        // Fully protected: the stored code is the intended code; nothing drifts.
        FlipProbabilities flips = FlipProbabilities.Symmetric(0.1);
        Assert.Equal(37, MeanCorrection.BestStoredCode(37, 8, 8, flips));
        // Asymmetric leak (only 1 → 0): among codes with the same mean residual the one with fewer unprotected ones is quieter.
        var leak = new FlipProbabilities(0.1, 0);
        int stored = MeanCorrection.BestStoredCode(0, 8, 4, leak);
        Assert.Equal(0, stored);
    }
}
