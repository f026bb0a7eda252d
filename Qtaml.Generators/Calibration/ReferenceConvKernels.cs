using System;
using System.Numerics;

namespace Qtaml.Generators.Calibration;

/// <summary>
/// The reference evaluator's convolutions, forward and backward, up to four output channels at a time. 1x1
/// convolutions (stride 1, no padding) are most of a real network's multiply-adds (80% of PP-OCRv4's recogniser, 59% of
/// the PP-OCR direction classifier) and 3x3 ones most of the rest; row by row each multiply-add loads and stores a
/// value, while blocked the four channels share every input load and the arithmetic, not memory, is the bound. Every
/// sum keeps one order whatever the instruction set (an output's: input channels, then taps; a weight's gradient:
/// <see cref="DoubleKernels.Dot"/>'s, row after row; an input's gradient: the blocks' channels, tap by tap), so the
/// results are the same bits everywhere. The vector loops run where <see cref="Vector{T}"/> holds 4 doubles (AVX2,
/// AVX-512); elsewhere the same sums run row by row.
/// </summary>
internal static class ReferenceConvKernels
{
    /// <summary>The output channels a pass takes at most.</summary>
    internal const int Block = 4;

    /// <summary>Whether the blocked loops apply on this machine.</summary>
    private static bool Blocked => Vector.IsHardwareAccelerated && Vector<double>.Count == 4;

    /// <summary>
    /// y[o] += Σ_ci w[wAt + o·ins + ci]·x[ci] for the <paramref name="outs"/> output planes from yAt and the
    /// <paramref name="ins"/> input planes from xAt (each <paramref name="plane"/> long), channels summed in order.
    /// </summary>
    public static void Forward(double[] x, int xAt, double[] y, int yAt, double[] w, int wAt, int outs, int ins, int plane)
    {
        int o = 0;
        if (Blocked)
            for (; o + Block <= outs; o += Block)
                ForwardBlock(x, xAt, y, yAt + o * plane, w, wAt + o * ins, ins, plane);
        for (; o < outs; o++)
            for (int ci = 0; ci < ins; ci++)
                DoubleKernels.Axpy(w[wAt + o * ins + ci], x, xAt + ci * plane, y, yAt + o * plane, plane);
    }

    private static void ForwardBlock(double[] x, int xAt, double[] y, int yAt, double[] w, int wAt, int ins, int plane)
    {
        int p = 0;
        for (; p + 8 <= plane; p += 8)
        {
            int y0 = yAt + p, y1 = y0 + plane, y2 = y1 + plane, y3 = y2 + plane;
            Vector<double> a0 = new(y, y0), b0 = new(y, y0 + 4), a1 = new(y, y1), b1 = new(y, y1 + 4);
            Vector<double> a2 = new(y, y2), b2 = new(y, y2 + 4), a3 = new(y, y3), b3 = new(y, y3 + 4);
            for (int ci = 0, xi = xAt + p; ci < ins; ci++, xi += plane)
            {
                Vector<double> lo = new(x, xi), hi = new(x, xi + 4);
                Vector<double> w0 = new(w[wAt + ci]), w1 = new(w[wAt + ins + ci]), w2 = new(w[wAt + 2 * ins + ci]), w3 = new(w[wAt + 3 * ins + ci]);
                a0 += w0 * lo; b0 += w0 * hi;
                a1 += w1 * lo; b1 += w1 * hi;
                a2 += w2 * lo; b2 += w2 * hi;
                a3 += w3 * lo; b3 += w3 * hi;
            }
            a0.CopyTo(y, y0); b0.CopyTo(y, y0 + 4);
            a1.CopyTo(y, y1); b1.CopyTo(y, y1 + 4);
            a2.CopyTo(y, y2); b2.CopyTo(y, y2 + 4);
            a3.CopyTo(y, y3); b3.CopyTo(y, y3 + 4);
        }
        for (; p < plane; p++)
            for (int j = 0; j < Block; j++)
            {
                double sum = y[yAt + j * plane + p];
                for (int ci = 0; ci < ins; ci++) sum += w[wAt + j * ins + ci] * x[xAt + ci * plane + p];
                y[yAt + j * plane + p] = sum;
            }
    }

    /// <summary>
    /// The adjoint of <see cref="Forward"/>: dx[ci] += Σ_o w[o, ci]·dy[o] (outputs in order) and
    /// dw[o, ci] += <see cref="DoubleKernels.Dot"/>(dy[o], x[ci]).
    /// </summary>
    public static void Backward(double[] x, double[] dx, int xAt, double[] dy, int yAt, double[] w, double[] dw, int wAt, int outs, int ins, int plane)
    {
        var sums = new double[Block];
        for (int o = 0; o < outs; o += Block)
        {
            int rows = Math.Min(Block, outs - o);
            for (int ci = 0; ci < ins; ci++)
            {
                int tap = wAt + o * ins + ci;
                Array.Clear(sums, 0, rows);
                BackwardRows(x, dx, xAt + ci * plane, 1, dy, yAt + o * plane, plane, w, tap, ins, rows, plane, sums);
                for (int j = 0; j < rows; j++) dw[tap + j * ins] += sums[j];
            }
        }
    }

    /// <summary>
    /// y[yAt + j·yStride + i] += w[wAt + j·wStride]·x[xAt + i·xStride] for i &lt; count and each of
    /// <paramref name="rows"/> (at most four) output rows: one input row read once for up to four output channels.
    /// </summary>
    public static void ForwardRows(double[] x, int xAt, int xStride, double[] y, int yAt, int yStride, double[] w, int wAt, int wStride, int rows, int count)
    {
        if (rows == Block && xStride == 1 && Blocked && NoZero(w, wAt, wStride))
        {
            Vector<double> w0 = new(w[wAt]), w1 = new(w[wAt + wStride]), w2 = new(w[wAt + 2 * wStride]), w3 = new(w[wAt + 3 * wStride]);
            int y0 = yAt, y1 = y0 + yStride, y2 = y1 + yStride, y3 = y2 + yStride, i = 0;
            for (; i + 4 <= count; i += 4)
            {
                var v = new Vector<double>(x, xAt + i);
                (new Vector<double>(y, y0 + i) + w0 * v).CopyTo(y, y0 + i);
                (new Vector<double>(y, y1 + i) + w1 * v).CopyTo(y, y1 + i);
                (new Vector<double>(y, y2 + i) + w2 * v).CopyTo(y, y2 + i);
                (new Vector<double>(y, y3 + i) + w3 * v).CopyTo(y, y3 + i);
            }
            for (; i < count; i++)
            {
                double v = x[xAt + i];
                y[y0 + i] += w[wAt] * v;
                y[y1 + i] += w[wAt + wStride] * v;
                y[y2 + i] += w[wAt + 2 * wStride] * v;
                y[y3 + i] += w[wAt + 3 * wStride] * v;
            }
            return;
        }
        for (int j = 0; j < rows; j++)
        {
            double weight = w[wAt + j * wStride];
            if (weight != 0) DoubleKernels.AxpyFromStrided(weight, x, xAt, xStride, y, yAt + j * yStride, count);
        }
    }

    /// <summary>
    /// The adjoint of <see cref="ForwardRows"/>: adds each output row's <see cref="DoubleKernels.Dot"/> with the input
    /// row into <paramref name="sums"/>[j] (its weight's gradient, row by row), and to dx the rows' contributions in
    /// row order, element by element: the bits of <see cref="DoubleKernels.DotAndScatter"/> called row after row.
    /// </summary>
    public static void BackwardRows(double[] x, double[] dx, int xAt, int xStride, double[] dy, int yAt, int yStride, double[] w, int wAt, int wStride, int rows, int count, double[] sums)
    {
        if (rows == Block && xStride == 1 && Blocked && NoZero(w, wAt, wStride))
        {
            BackwardBlock(x, dx, xAt, dy, yAt, yStride, w, wAt, wStride, count, sums);
            return;
        }
        for (int j = 0; j < rows; j++)
            sums[j] += DoubleKernels.DotAndScatter(dy, yAt + j * yStride, x, dx, xAt, count, w[wAt + j * wStride], xStride);
    }

    /// <summary>Whether none of four weights is zero (a zero weight adds nothing to dx: the row rules skip it, and so must every path).</summary>
    private static bool NoZero(double[] w, int at, int stride) => w[at] != 0 && w[at + stride] != 0 && w[at + 2 * stride] != 0 && w[at + 3 * stride] != 0;

    /// <summary>One input row against four output gradient rows <paramref name="yStride"/> apart, their weights <paramref name="wStride"/> apart.</summary>
    private static void BackwardBlock(double[] x, double[] dx, int xAt, double[] dy, int yAt, int yStride, double[] w, int tap, int wStride, int count, double[] sums)
    {
        Vector<double> w0 = new(w[tap]), w1 = new(w[tap + wStride]), w2 = new(w[tap + 2 * wStride]), w3 = new(w[tap + 3 * wStride]);
        // Eight partial sums per weight, element i into sum i mod 8, as Dot keeps them: lanes of (a, b).
        Vector<double> a0 = Vector<double>.Zero, b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
        int whole = count / 8 * 8, y0 = yAt, y1 = y0 + yStride, y2 = y1 + yStride, y3 = y2 + yStride;
        for (int p = 0; p < whole; p += 8)
        {
            int xi = xAt + p;
            Vector<double> lo = new(x, xi), hi = new(x, xi + 4), dlo = new(dx, xi), dhi = new(dx, xi + 4);
            Vector<double> g = new(dy, y0 + p), h = new(dy, y0 + p + 4);
            dlo += w0 * g; dhi += w0 * h; a0 += g * lo; b0 += h * hi;
            g = new(dy, y1 + p); h = new(dy, y1 + p + 4);
            dlo += w1 * g; dhi += w1 * h; a1 += g * lo; b1 += h * hi;
            g = new(dy, y2 + p); h = new(dy, y2 + p + 4);
            dlo += w2 * g; dhi += w2 * h; a2 += g * lo; b2 += h * hi;
            g = new(dy, y3 + p); h = new(dy, y3 + p + 4);
            dlo += w3 * g; dhi += w3 * h; a3 += g * lo; b3 += h * hi;
            dlo.CopyTo(dx, xi); dhi.CopyTo(dx, xi + 4);
        }
        double s0 = Reduce(a0, b0), s1 = Reduce(a1, b1), s2 = Reduce(a2, b2), s3 = Reduce(a3, b3);
        for (int p = whole; p < count; p++)
        {
            double v = x[xAt + p], d = dx[xAt + p];
            double g0 = dy[y0 + p], g1 = dy[y1 + p], g2 = dy[y2 + p], g3 = dy[y3 + p];
            d += w[tap] * g0; d += w[tap + wStride] * g1; d += w[tap + 2 * wStride] * g2; d += w[tap + 3 * wStride] * g3;
            dx[xAt + p] = d;
            s0 += g0 * v; s1 += g1 * v; s2 += g2 * v; s3 += g3 * v;
        }
        sums[0] += s0;
        sums[1] += s1;
        sums[2] += s2;
        sums[3] += s3;
    }

    /// <summary>The eight partial sums (a's lanes, then b's) added as Dot adds them.</summary>
    private static double Reduce(Vector<double> a, Vector<double> b) => ((a[0] + a[1]) + (a[2] + a[3])) + ((b[0] + b[1]) + (b[2] + b[3]));
}
