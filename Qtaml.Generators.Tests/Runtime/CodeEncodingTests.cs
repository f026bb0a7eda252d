using Qtaml.Generators.Tests.Support;
using Qtaml.Moments;
using Qtaml.Physics;
using Qtaml.Tac;

namespace Qtaml.Generators.Tests.Runtime;

/// <summary>
/// The moment and mean-correction theorems of DESIGN 3.4 for both encodings: the closed forms equal the exact
/// distribution of the read code (every flip pattern enumerated) and agree with Monte Carlo reads within 4 sigma;
/// corrected codes read back within their stated residual; and under one-way leaks sign-magnitude leaves less
/// error than two's complement at every protection level.
/// </summary>
public class CodeEncodingTests
{
    private static readonly FlipProbabilities[] Flips =
    {
        RetentionModel.WindowAverage(NodePresets.Get("2nm").FlipProbabilities),   // one-way leaks, p10 ≈ 0.051
        FlipProbabilities.Symmetric(0.10),                                          // the paper's setting
        new(0.08, 0.03),                                                            // a reverse leak
    };

    public static TheoryData<CodeEncoding> Encodings => new() { CodeEncoding.TwosComplement, CodeEncoding.SignMagnitude };

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Every_code_round_trips_through_its_pattern(CodeEncoding encoding)
    {
        foreach (int bits in new[] { 2, 4, 8, 10 })
            for (int code = CodeEncodings.MinCode(bits, encoding); code <= CodeEncodings.MaxCode(bits); code++)
                Assert.Equal(code, CodeEncodings.FromPattern(CodeEncodings.ToPattern(code, bits, encoding), bits, encoding));
        Assert.Equal(0, CodeEncodings.FromPattern(0b1000_0000, 8, CodeEncoding.SignMagnitude));   // negative zero reads as 0
    }

    /// <summary>The read code's exact distribution: every pattern of the unprotected bits with its probability.</summary>
    private static (double Mean, double Variance, double Fourth) Exact(int code, int bits, int mask, FlipProbabilities flips, CodeEncoding encoding)
    {
        int pattern = CodeEncodings.ToPattern(code, bits, encoding);
        var values = new List<(double Value, double Probability)>();
        for (int read = 0; read < 1 << bits; read++)
        {
            double probability = 1;
            for (int k = 0; k < bits && probability > 0; k++)
            {
                bool stored = (pattern >> k & 1) != 0, seen = (read >> k & 1) != 0;
                probability *= (mask & 1 << k) != 0 ? (stored == seen ? 1 : 0) : seen ? flips.ReadsOne(stored) : 1 - flips.ReadsOne(stored);
            }
            if (probability > 0) values.Add((CodeEncodings.FromPattern(read, bits, encoding), probability));
        }
        double mean = values.Sum(v => v.Value * v.Probability);
        double variance = values.Sum(v => (v.Value - mean) * (v.Value - mean) * v.Probability);
        double fourth = values.Sum(v => Math.Pow(v.Value - mean, 4) * v.Probability);
        return (mean, variance, fourth);
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void The_closed_form_moments_equal_the_exact_distribution(CodeEncoding encoding)
    {
        const int bits = 8;
        foreach (FlipProbabilities flips in Flips)
            foreach (int protectedCount in new[] { 0, 1, 2, 5 })
                for (int code = CodeEncodings.MinCode(bits, encoding); code <= CodeEncodings.MaxCode(bits); code += 7)
                {
                    int mask = StoredCode.TopPlanesMask(bits, protectedCount);
                    ErrorMoment closed = ErrorMoments.Read(code, bits, mask, flips, encoding);
                    (double mean, double variance, _) = Exact(code, bits, mask, flips, encoding);
                    Assert.Equal(mean, closed.Mean, 1e-9 * Math.Max(1, Math.Abs(mean)));
                    Assert.Equal(variance, closed.Variance, 1e-9 * Math.Max(1, variance));
                }
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Monte_Carlo_reads_agree_with_the_closed_form_within_4_sigma(CodeEncoding encoding)
    {
        const int bits = 8, reads = 200_000;
        var random = new Random(31);
        foreach (FlipProbabilities flips in Flips)
            foreach (int code in new[] { CodeEncodings.MinCode(bits, encoding), -3, 0, 9, 100 })
            {
                int mask = StoredCode.TopPlanesMask(bits, 1), pattern = CodeEncodings.ToPattern(code, bits, encoding);
                double sum = 0, squares = 0;
                for (int n = 0; n < reads; n++)
                {
                    int read = 0;
                    for (int k = 0; k < bits; k++)
                    {
                        bool stored = (pattern >> k & 1) != 0;
                        bool one = (mask & 1 << k) != 0 ? stored : random.NextDouble() < flips.ReadsOne(stored);
                        if (one) read |= 1 << k;
                    }
                    double value = CodeEncodings.FromPattern(read, bits, encoding);
                    sum += value;
                    squares += value * value;
                }
                double mean = sum / reads, variance = squares / reads - mean * mean;
                ErrorMoment closed = ErrorMoments.Read(code, bits, mask, flips, encoding);
                (_, double exactVariance, double fourth) = Exact(code, bits, mask, flips, encoding);
                Assert.True(Math.Abs(mean - closed.Mean) <= Sigma.MeanBand(exactVariance, reads) + 1e-12, $"{encoding} code {code} {flips}: mean {mean}, closed form {closed.Mean}");
                Assert.True(Math.Abs(variance - closed.Variance) <= Sigma.VarianceBand(exactVariance, fourth, reads) + 1e-12, $"{encoding} code {code} {flips}: variance {variance}, closed form {closed.Variance}");
            }
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Corrected_codes_read_back_within_their_stated_residual(CodeEncoding encoding)
    {
        const int bits = 8;
        int[] intended = Enumerable.Range(CodeEncodings.MinCode(bits, encoding), CodeEncodings.MaxCode(bits) - CodeEncodings.MinCode(bits, encoding) + 1).ToArray();
        foreach (FlipProbabilities flips in Flips)
            foreach (int protectedCount in new[] { 0, 1, 2, 4 })
            {
                CorrectedLayer corrected = MeanCorrection.Apply(intended, bits, protectedCount, flips, encoding);
                int mask = StoredCode.TopPlanesMask(bits, protectedCount);
                for (int i = 0; i < intended.Length; i++)
                {
                    // E[ŵ]/s = ScaleFactor·(E[q~] + CodeOffset): within the residual of the intended code (range edges excepted: a code cannot exceed its range).
                    double read = corrected.ScaleFactor * (ErrorMoments.Read(corrected.StoredCodes[i], bits, mask, flips, encoding).Mean + corrected.CodeOffset);
                    if (encoding == CodeEncoding.TwosComplement && protectedCount == 0) Assert.Equal(intended[i], read, 1e-9);
                    else if (Math.Abs(intended[i]) < CodeEncodings.MaxCode(bits) * 0.8)
                        Assert.True(Math.Abs(read - intended[i]) <= corrected.WorstCaseResidual + 1e-9, $"{encoding}, {protectedCount} protected, {flips}: code {intended[i]} reads {read}, residual bound {corrected.WorstCaseResidual}");
                }
            }
        // One-way leaks, the sign protected: sign-magnitude's drift is a pure scale, corrected exactly.
        FlipProbabilities oneWay = Flips[0];
        CorrectedLayer scale = MeanCorrection.Apply(new[] { -100, -1, 0, 1, 100 }, bits, 1, oneWay, CodeEncoding.SignMagnitude);
        Assert.Equal(1 / (1 - oneWay.P10), scale.ScaleFactor, 1e-15);
        Assert.Equal(new[] { -100, -1, 0, 1, 100 }, scale.StoredCodes);
        Assert.Equal(0, scale.WorstCaseResidual);
    }

    [Fact]
    public void Sign_magnitude_correction_stores_the_code_whose_read_mean_is_nearest()
    {
        // Against a search of every code: the nearest read mean, ties to the lower read variance, then the lower code.
        const int bits = 8;
        int minCode = CodeEncodings.MinCode(bits, CodeEncoding.SignMagnitude), maxCode = CodeEncodings.MaxCode(bits);
        int[] all = Enumerable.Range(minCode, maxCode - minCode + 1).ToArray();
        foreach (FlipProbabilities flips in Flips.Append(new FlipProbabilities(0.3, 0.3)).Append(new FlipProbabilities(1e-7, 0)))
            foreach (int protectedCount in new[] { 0, 2, 3, 7 })
            {
                int mask = StoredCode.TopPlanesMask(bits, protectedCount);
                ErrorMoment[] reads = all.Select(c => ErrorMoments.Read(c, bits, mask, flips, CodeEncoding.SignMagnitude)).ToArray();
                CorrectedLayer corrected = MeanCorrection.Apply(all, bits, protectedCount, flips, CodeEncoding.SignMagnitude);
                if (corrected.ScaleFactor != 1) continue;   // the exact scale of one-way leaks, checked above
                foreach (int target in all)
                {
                    int expected = all.OrderBy(c => Math.Abs(reads[c - minCode].Mean - target)).ThenBy(c => reads[c - minCode].Variance).ThenBy(c => c).First();
                    Assert.True(expected == corrected.StoredCodes[target - minCode], $"{flips}, {protectedCount} protected: code {target} stored as {corrected.StoredCodes[target - minCode]}, nearest {expected}");
                }
            }
    }

    [Fact]
    public void Under_one_way_leaks_sign_magnitude_leaves_less_error_than_twos_complement()
    {
        // Codes of a trained layer are roughly Laplace around 0: weigh each code by exp(−|q|/12), the 8-bit scale of
        // a layer whose largest weight is about 10 times its mean magnitude. The error a weight keeps after mean
        // correction: (E[ŵ]/s − q)² + Var[ŵ]/s². Measured (squared codes per weight, sign-magnitude against two's
        // complement): 45 vs 562 with nothing protected, 9.5 vs 102 with one plane, 8.4 vs 28 with two, 4.5 vs 7.8 with three.
        const int bits = 8;
        FlipProbabilities flips = Flips[0];
        foreach (int protectedCount in new[] { 0, 1, 2, 3 })
        {
            double Error(CodeEncoding encoding)
            {
                int min = CodeEncodings.MinCode(bits, CodeEncoding.SignMagnitude), max = CodeEncodings.MaxCode(bits);
                int[] codes = Enumerable.Range(min, max - min + 1).ToArray();
                CorrectedLayer corrected = MeanCorrection.Apply(codes, bits, protectedCount, flips, encoding);
                int mask = StoredCode.TopPlanesMask(bits, protectedCount);
                double total = 0, weights = 0;
                for (int i = 0; i < codes.Length; i++)
                {
                    ErrorMoment read = ErrorMoments.Read(corrected.StoredCodes[i], bits, mask, flips, encoding);
                    double mean = corrected.ScaleFactor * (read.Mean + corrected.CodeOffset), variance = corrected.ScaleFactor * corrected.ScaleFactor * read.Variance;
                    double weight = Math.Exp(-Math.Abs(codes[i]) / 12.0);
                    total += weight * ((mean - codes[i]) * (mean - codes[i]) + variance);
                    weights += weight;
                }
                return total / weights;
            }
            double twos = Error(CodeEncoding.TwosComplement), signMagnitude = Error(CodeEncoding.SignMagnitude);
            Assert.True(signMagnitude < twos, $"{protectedCount} protected: sign-magnitude {signMagnitude:G4}, two's complement {twos:G4} (squared codes per weight)");
        }
    }
}
