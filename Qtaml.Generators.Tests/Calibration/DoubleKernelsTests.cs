extern alias gen;
using DoubleKernels = gen::Qtaml.Generators.Calibration.DoubleKernels;
using ReferenceConvKernels = gen::Qtaml.Generators.Calibration.ReferenceConvKernels;
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

    [Theory]
    [InlineData(0, 1, 0.75)]
    [InlineData(7, 1, 0.75)]
    [InlineData(8, 1, -1.5)]
    [InlineData(61, 1, 0.75)]
    [InlineData(1000, 1, 2.25)]
    [InlineData(203, 3, 0.75)]
    [InlineData(64, 1, 0.0)]
    public void DotAndScatter_is_Dot_and_Axpy_in_one_pass_bit_for_bit(int count, int stride, double weight)
    {
        var random = new Random(count * 7 + stride);
        double[] g = Enumerable.Range(0, count + 5).Select(_ => random.NextDouble() * 2e3 - 1e3).ToArray();
        double[] x = Enumerable.Range(0, count * stride + 9).Select(_ => random.NextDouble() * 2e-3 - 1e-3).ToArray();
        double[] dx = Enumerable.Range(0, x.Length).Select(_ => random.NextDouble() - 0.5).ToArray();
        double[] expectedDx = (double[])dx.Clone();
        if (weight != 0) DoubleKernels.Axpy(weight, g, 3, expectedDx, 2, count, stride);
        double expected = DoubleKernels.Dot(g, 3, x, 2, count, stride);

        double actual = DoubleKernels.DotAndScatter(g, 3, x, dx, 2, count, weight, stride);

        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(actual));
        AssertSameBits(expectedDx, dx);
    }

    [Theory]
    [InlineData(4, 3, 16)]
    [InlineData(9, 5, 37)]
    [InlineData(3, 2, 8)]
    [InlineData(13, 7, 5)]
    public void Pointwise_kernels_give_the_row_rules_bits_four_channels_at_a_time(int outs, int ins, int plane)
    {
        var random = new Random(outs * 100 + ins * 10 + plane);
        double[] x = Values(random, 2 + ins * plane, 10), w = Values(random, 1 + outs * ins, 1), bias = Values(random, outs * plane, 1);
        double[] dy = Values(random, 3 + outs * plane, 100), dx = Values(random, x.Length, 1), dw = Values(random, w.Length, 1);

        // The rules, row by row: outputs summed over the channels in order; each weight's gradient a Dot, each input's
        // gradient the outputs' contributions in output order.
        double[] expectedY = new double[3 + outs * plane];
        Array.Copy(bias, 0, expectedY, 3, bias.Length);
        double[] expectedDx = (double[])dx.Clone(), expectedDw = (double[])dw.Clone();
        for (int o = 0; o < outs; o++)
            for (int ci = 0; ci < ins; ci++)
            {
                DoubleKernels.Axpy(w[1 + o * ins + ci], x, 2 + ci * plane, expectedY, 3 + o * plane, plane);
                expectedDw[1 + o * ins + ci] += DoubleKernels.Dot(dy, 3 + o * plane, x, 2 + ci * plane, plane);
                DoubleKernels.Axpy(w[1 + o * ins + ci], dy, 3 + o * plane, expectedDx, 2 + ci * plane, plane);
            }

        double[] y = new double[expectedY.Length];
        Array.Copy(bias, 0, y, 3, bias.Length);
        ReferenceConvKernels.Forward(x, 2, y, 3, w, 1, outs, ins, plane);
        ReferenceConvKernels.Backward(x, dx, 2, dy, 3, w, dw, 1, outs, ins, plane);

        AssertSameBits(expectedY, y);
        AssertSameBits(expectedDx, dx);
        AssertSameBits(expectedDw, dw);
    }

    [Theory]
    [InlineData(4, 13, 1)]
    [InlineData(4, 55, 1)]
    [InlineData(3, 20, 1)]
    [InlineData(4, 9, 2)]
    public void Convolution_rows_for_four_channels_are_the_row_rules_bits(int rows, int count, int stride)
    {
        var random = new Random(rows * 1000 + count * 10 + stride);
        const int yStride = 70, wStride = 9;
        double[] x = Values(random, 5 + count * stride, 10), w = Values(random, 2 + rows * wStride, 1), y = Values(random, 4 + rows * yStride, 1);
        double[] dy = Values(random, y.Length, 100), dx = Values(random, x.Length, 1);
        double[] expectedY = (double[])y.Clone(), expectedDx = (double[])dx.Clone(), expectedSums = new double[4];
        for (int j = 0; j < rows; j++)
        {
            DoubleKernels.AxpyFromStrided(w[2 + j * wStride], x, 5, stride, expectedY, 4 + j * yStride, count);
            expectedSums[j] += DoubleKernels.DotAndScatter(dy, 4 + j * yStride, x, expectedDx, 5, count, w[2 + j * wStride], stride);
        }

        var sums = new double[4];
        ReferenceConvKernels.ForwardRows(x, 5, stride, y, 4, yStride, w, 2, wStride, rows, count);
        ReferenceConvKernels.BackwardRows(x, dx, 5, stride, dy, 4, yStride, w, 2, wStride, rows, count, sums);

        AssertSameBits(expectedY, y);
        AssertSameBits(expectedDx, dx);
        AssertSameBits(expectedSums, sums);
    }

    [Fact]
    public void The_elementwise_kernels_compute_each_element_as_one_at_a_time_from_any_offset()
    {
        // 23 values from offsets that are not multiples of a vector: whole vectors, then a tail, each element the same
        // one multiply and one add as the scalar expression (the same bits).
        double[] a = Enumerable.Range(0, 30).Select(i => i * 0.37).ToArray(), b = Enumerable.Range(0, 30).Select(i => 1.0 / (i + 1)).ToArray();
        double[] d = Enumerable.Range(0, 30).Select(i => -0.5 * i).ToArray();
        const int count = 23, aAt = 1, bAt = 3, dAt = 2;

        double[] sum = (double[])d.Clone();
        DoubleKernels.MultiplyAdd(a, aAt, b, bAt, sum, dAt, count);
        double[] product = (double[])d.Clone();
        DoubleKernels.Multiply(a, aAt, b, bAt, product, dAt, count);
        double[] scaled = (double[])d.Clone();
        DoubleKernels.Scale(-0.3, a, aAt, scaled, dAt, count);
        for (int i = 0; i < d.Length; i++)
        {
            bool inside = i >= dAt && i < dAt + count;
            int k = i - dAt;
            Assert.Equal(inside ? d[i] + a[aAt + k] * b[bAt + k] : d[i], sum[i]);
            Assert.Equal(inside ? a[aAt + k] * b[bAt + k] : d[i], product[i]);
            Assert.Equal(inside ? a[aAt + k] * -0.3 : d[i], scaled[i]);
        }
    }

    [Fact]
    public void SumInOrder_adds_each_product_in_turn_stepping_or_repeating_one_value()
    {
        double[] a = Enumerable.Range(0, 20).Select(i => Math.Sin(i) * 1e3).ToArray(), b = Enumerable.Range(0, 20).Select(i => Math.Cos(i) * 1e-3).ToArray();
        double stepping = 0.25, repeating = 0.25;
        for (int i = 0; i < 17; i++)
        {
            stepping += a[2 + i] * b[1 + i];
            repeating += a[2 + i] * b[5];
        }
        Assert.Equal(BitConverter.DoubleToInt64Bits(stepping), BitConverter.DoubleToInt64Bits(DoubleKernels.SumInOrder(0.25, a, 2, b, 1, 17, 1)));
        Assert.Equal(BitConverter.DoubleToInt64Bits(repeating), BitConverter.DoubleToInt64Bits(DoubleKernels.SumInOrder(0.25, a, 2, b, 5, 17, 0)));
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

    /// <summary>n values uniform in ±scale/2.</summary>
    private static double[] Values(Random random, int n, double scale) => Enumerable.Range(0, n).Select(_ => (random.NextDouble() - 0.5) * scale).ToArray();

    [Theory]
    [InlineData(new[] { 1, 480, 1, 1 }, new[] { 1, 480, 1, 40 })]   // a squeeze-and-excitation scale over a recogniser's sequence
    [InlineData(new[] { 3, 1, 5 }, new[] { 2, 3, 4, 5 })]             // fewer axes, size-1 axes in the middle
    [InlineData(new[] { 7 }, new[] { 7 })]
    [InlineData(new[] { 1 }, new[] { 2, 3, 1, 4 })]
    public void The_odometer_broadcast_map_reads_what_dividing_each_index_out_reads(int[] operand, int[] output)
    {
        int[] strides = gen::Qtaml.Generators.Network.Shape.BroadcastStrides(operand, output);
        int[] expected = Enumerable.Range(0, output.Aggregate(1, (a, b) => a * b)).Select(i => DividedOut(strides, output, i)).ToArray();
        Assert.Equal(expected, ReferenceEvaluator.BroadcastMap(strides, output));
    }

    /// <summary>The definition: each axis's coordinate of output index <paramref name="flat"/> divided out, times its stride.</summary>
    private static int DividedOut(int[] strides, int[] output, int flat)
    {
        int index = 0;
        for (int d = output.Length - 1; d >= 0; d--)
        {
            index += flat % output[d] * strides[d];
            flat /= output[d];
        }
        return index;
    }

    /// <summary>Equal bit for bit, element by element (Assert.Equal on doubles would accept −0 for +0).</summary>
    private static void AssertSameBits(double[] expected, double[] actual) =>
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), actual.Select(BitConverter.DoubleToInt64Bits));
}
