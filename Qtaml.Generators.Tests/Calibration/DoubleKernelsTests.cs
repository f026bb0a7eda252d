extern alias gen;
using DoubleKernels = gen::Qtaml.Generators.Calibration.DoubleKernels;
using ReferenceEvaluator = gen::Qtaml.Generators.Calibration.ReferenceEvaluator;

namespace Qtaml.Generators.Tests.Calibration;

/// <summary>
/// The reference evaluator's inner loops. Their sums feed the sensitivities printed into generated code, so a dot
/// product must give the same bits whatever the vector width (.ci/run repeats these tests with AVX2 and AVX-512 off).
/// </summary>
public class DoubleKernelsTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(7, 1)]
    [InlineData(8, 1)]
    [InlineData(61, 1)]
    [InlineData(1000, 1)]
    [InlineData(203, 3)]
    public void Dot_sums_eight_partial_sums_in_a_fixed_order_on_every_instruction_set(int count, int stride)
    {
        var random = new Random(count * 31 + stride);
        double[] a = Enumerable.Range(0, count + 5).Select(_ => random.NextDouble() * 2e3 - 1e3).ToArray();
        double[] b = Enumerable.Range(0, count * stride + 9).Select(_ => random.NextDouble() * 2e-3 - 1e-3).ToArray();

        // The documented order, written out: element i into partial sum i mod 8, a balanced tree, then the tail in order.
        int whole = count / 8 * 8;
        var partial = new double[8];
        for (int i = 0; i < whole; i++) partial[i % 8] += a[3 + i] * b[2 + i * stride];
        double expected = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
        for (int i = whole; i < count; i++) expected += a[3 + i] * b[2 + i * stride];

        double actual = DoubleKernels.Dot(a, 3, b, 2, count, stride);
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(actual));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Axpy_adds_a_scaled_run_into_a_strided_one(int stride)
    {
        double[] x = Enumerable.Range(0, 37).Select(i => (double)i).ToArray();
        double[] y = Enumerable.Range(0, 100).Select(i => 0.5 * i).ToArray();
        double[] expected = (double[])y.Clone();
        for (int i = 0; i < 35; i++) expected[4 + i * stride] += 3 * x[2 + i];
        DoubleKernels.Axpy(3, x, 2, y, 4, 35, stride);
        Assert.Equal(expected, y);
    }

    [Fact]
    public void A_taps_valid_outputs_are_exactly_those_that_read_inside_the_input()
    {
        for (int length = 1; length <= 9; length++)
            for (int stride = 1; stride <= 3; stride++)
                for (int offset = -5; offset <= 9; offset++)
                {
                    int outputs = 7;
                    (int first, int end) = ReferenceEvaluator.ValidOutputs(length, outputs, stride, offset);
                    int[] inside = Enumerable.Range(0, outputs).Where(o => o * stride + offset >= 0 && o * stride + offset < length).ToArray();
                    Assert.Equal(inside, Enumerable.Range(first, end - first).ToArray());
                }
    }
}
