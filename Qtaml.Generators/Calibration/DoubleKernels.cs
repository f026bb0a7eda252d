using System.Numerics;

namespace Qtaml.Generators.Calibration;

/// <summary>
/// The reference evaluator's inner loops over double arrays: a dot product and y += a·x, over contiguous runs (with
/// <see cref="Vector{T}"/> where the hardware accelerates it) or runs with a stride. Calibration runs every weight's
/// multiply-adds several times per input, forward and backward, so these few loops are what it costs; everything
/// around them (index arithmetic, bounds) is done once per run, not per element.
/// </summary>
internal static class DoubleKernels
{
    /// <summary>
    /// Σ a[aAt + i]·b[bAt + i·bStride] for i &lt; count, summed in an order fixed by the count alone: eight partial sums
    /// (element i into sum i mod 8), added as a balanced tree, then the last count mod 8 products in order. Vectors of
    /// 2, 4 or 8 lanes compute exactly those eight sums, so the result is the same bits on every instruction set and
    /// core count, as the generated code and its diagnostics must be.
    /// </summary>
    public static double Dot(double[] a, int aAt, double[] b, int bAt, int count, int bStride = 1)
    {
        int whole = count / 8 * 8;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int lanes = Vector<double>.Count;
        if (bStride == 1 && whole > 0 && Vector.IsHardwareAccelerated && lanes is 2 or 4 or 8)
        {
            Vector<double> v0 = Vector<double>.Zero, v1 = Vector<double>.Zero, v2 = Vector<double>.Zero, v3 = Vector<double>.Zero;
            for (int i = 0; i < whole; i += 8)
            {
                v0 += new Vector<double>(a, aAt + i) * new Vector<double>(b, bAt + i);
                if (lanes == 8) continue;
                v1 += new Vector<double>(a, aAt + i + lanes) * new Vector<double>(b, bAt + i + lanes);
                if (lanes == 4) continue;
                v2 += new Vector<double>(a, aAt + i + 4) * new Vector<double>(b, bAt + i + 4);
                v3 += new Vector<double>(a, aAt + i + 6) * new Vector<double>(b, bAt + i + 6);
            }
            // Lane k of the accumulators, in order, holds partial sum k.
            if (lanes == 8) (s0, s1, s2, s3, s4, s5, s6, s7) = (v0[0], v0[1], v0[2], v0[3], v0[4], v0[5], v0[6], v0[7]);
            else if (lanes == 4) (s0, s1, s2, s3, s4, s5, s6, s7) = (v0[0], v0[1], v0[2], v0[3], v1[0], v1[1], v1[2], v1[3]);
            else (s0, s1, s2, s3, s4, s5, s6, s7) = (v0[0], v0[1], v1[0], v1[1], v2[0], v2[1], v3[0], v3[1]);
        }
        else
        {
            for (int i = 0, j = bAt; i < whole; i += 8, j += 8 * bStride)
            {
                s0 += a[aAt + i] * b[j];
                s1 += a[aAt + i + 1] * b[j + bStride];
                s2 += a[aAt + i + 2] * b[j + 2 * bStride];
                s3 += a[aAt + i + 3] * b[j + 3 * bStride];
                s4 += a[aAt + i + 4] * b[j + 4 * bStride];
                s5 += a[aAt + i + 5] * b[j + 5 * bStride];
                s6 += a[aAt + i + 6] * b[j + 6 * bStride];
                s7 += a[aAt + i + 7] * b[j + 7 * bStride];
            }
        }
        double sum = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        for (int i = whole; i < count; i++) sum += a[aAt + i] * b[bAt + i * bStride];
        return sum;
    }

    /// <summary>
    /// A convolution tap's two backward products in one pass over its output gradient row g: returns
    /// <see cref="Dot"/>(g, gAt, x, xAt, count, xStride) (the weight's gradient, the same bits) and adds weight·g[gAt + i]
    /// to dx[xAt + i·xStride] (the input's gradient), reading g once instead of twice.
    /// </summary>
    public static double DotAndScatter(double[] g, int gAt, double[] x, double[] dx, int xAt, int count, double weight, int xStride = 1)
    {
        if (weight == 0) return Dot(g, gAt, x, xAt, count, xStride);
        if (xStride != 1 || !Vector.IsHardwareAccelerated || Vector<double>.Count is not (2 or 4 or 8))
        {
            double dot = Dot(g, gAt, x, xAt, count, xStride);
            Axpy(weight, g, gAt, dx, xAt, count, xStride);
            return dot;
        }
        int whole = count / 8 * 8, lanes = Vector<double>.Count;
        var scale = new Vector<double>(weight);
        Vector<double> v0 = Vector<double>.Zero, v1 = Vector<double>.Zero, v2 = Vector<double>.Zero, v3 = Vector<double>.Zero;
        // The lanes of v0..v3 hold the same eight partial sums as Dot's (element i into sum i mod 8).
        for (int i = 0; i < whole; i += 8)
        {
            v0 = Step(g, gAt + i, x, dx, xAt + i, scale, v0);
            if (lanes == 8) continue;
            v1 = Step(g, gAt + i + lanes, x, dx, xAt + i + lanes, scale, v1);
            if (lanes == 4) continue;
            v2 = Step(g, gAt + i + 4, x, dx, xAt + i + 4, scale, v2);
            v3 = Step(g, gAt + i + 6, x, dx, xAt + i + 6, scale, v3);
        }
        double s0, s1, s2, s3, s4, s5, s6, s7;
        if (lanes == 8) (s0, s1, s2, s3, s4, s5, s6, s7) = (v0[0], v0[1], v0[2], v0[3], v0[4], v0[5], v0[6], v0[7]);
        else if (lanes == 4) (s0, s1, s2, s3, s4, s5, s6, s7) = (v0[0], v0[1], v0[2], v0[3], v1[0], v1[1], v1[2], v1[3]);
        else (s0, s1, s2, s3, s4, s5, s6, s7) = (v0[0], v0[1], v1[0], v1[1], v2[0], v2[1], v3[0], v3[1]);
        double sum = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        for (int i = whole; i < count; i++)
        {
            sum += g[gAt + i] * x[xAt + i];
            dx[xAt + i] += weight * g[gAt + i];
        }
        return sum;
    }

    /// <summary>One vector of <see cref="DotAndScatter"/>: dx += scale·g there, and the sum plus g·x.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector<double> Step(double[] g, int gAt, double[] x, double[] dx, int xAt, Vector<double> scale, Vector<double> sum)
    {
        var gv = new Vector<double>(g, gAt);
        (new Vector<double>(dx, xAt) + scale * gv).CopyTo(dx, xAt);
        return sum + gv * new Vector<double>(x, xAt);
    }

    /// <summary>d[dAt + i] += a[aAt + i]·b[bAt + i] for i &lt; count (each element one multiply and one add: the same bits in vectors).</summary>
    public static void MultiplyAdd(double[] a, int aAt, double[] b, int bAt, double[] d, int dAt, int count)
    {
        int i = 0, lanes = Vector<double>.Count;
        if (Vector.IsHardwareAccelerated)
            for (; i <= count - lanes; i += lanes)
                (new Vector<double>(d, dAt + i) + new Vector<double>(a, aAt + i) * new Vector<double>(b, bAt + i)).CopyTo(d, dAt + i);
        for (; i < count; i++) d[dAt + i] += a[aAt + i] * b[bAt + i];
    }

    /// <summary>d[dAt + i] = a[aAt + i]·b[bAt + i] for i &lt; count: <see cref="MultiplyAdd"/> into zeros, without them.</summary>
    public static void Multiply(double[] a, int aAt, double[] b, int bAt, double[] d, int dAt, int count)
    {
        int i = 0, lanes = Vector<double>.Count;
        if (Vector.IsHardwareAccelerated)
            for (; i <= count - lanes; i += lanes)
                (new Vector<double>(a, aAt + i) * new Vector<double>(b, bAt + i)).CopyTo(d, dAt + i);
        for (; i < count; i++) d[dAt + i] = a[aAt + i] * b[bAt + i];
    }

    /// <summary>d[dAt + i] = b·a[aAt + i] for i &lt; count.</summary>
    public static void Scale(double b, double[] a, int aAt, double[] d, int dAt, int count)
    {
        int i = 0, lanes = Vector<double>.Count;
        if (Vector.IsHardwareAccelerated && count >= lanes)
        {
            var scale = new Vector<double>(b);
            for (; i <= count - lanes; i += lanes)
                (new Vector<double>(a, aAt + i) * scale).CopyTo(d, dAt + i);
        }
        for (; i < count; i++) d[dAt + i] = a[aAt + i] * b;
    }

    /// <summary>
    /// sum + Σ a[aAt + i]·b[bAt + i·bStride] added one at a time in order (a gradient that many outputs share, as it
    /// was added to one element at a time; bStride 0 repeats b's one value).
    /// </summary>
    public static double SumInOrder(double sum, double[] a, int aAt, double[] b, int bAt, int count, int bStride)
    {
        for (int i = 0, j = bAt; i < count; i++, j += bStride) sum += a[aAt + i] * b[j];
        return sum;
    }

    /// <summary>y[yAt + i·yStride] += a·x[xAt + i] for i &lt; count.</summary>
    public static void Axpy(double a, double[] x, int xAt, double[] y, int yAt, int count, int yStride = 1)
    {
        int i = 0;
        if (yStride == 1)
        {
            int lanes = Vector<double>.Count;
            if (Vector.IsHardwareAccelerated && count >= lanes)
            {
                var scale = new Vector<double>(a);
                for (; i <= count - lanes; i += lanes)
                    (new Vector<double>(y, yAt + i) + scale * new Vector<double>(x, xAt + i)).CopyTo(y, yAt + i);
            }
            for (; i < count; i++) y[yAt + i] += a * x[xAt + i];
            return;
        }
        for (int j = yAt; i < count; i++, j += yStride) y[j] += a * x[xAt + i];
    }

    /// <summary>y[yAt + i] += a·x[xAt + i·xStride] for i &lt; count (a gather from a strided source).</summary>
    public static void AxpyFromStrided(double a, double[] x, int xAt, int xStride, double[] y, int yAt, int count)
    {
        if (xStride == 1)
        {
            Axpy(a, x, xAt, y, yAt, count);
            return;
        }
        for (int i = 0, j = xAt; i < count; i++, j += xStride) y[yAt + i] += a * x[j];
    }
}
