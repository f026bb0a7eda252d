namespace Qtaml.Generators.Tests.Support;

/// <summary>A layer of the test models, as the bound propagation below sees it.</summary>
internal abstract record ReferenceOp
{
    public sealed record Dense(float[] W, float[] B, int Out, int In) : ReferenceOp;
    public sealed record Conv(float[] W, float[] B, int OutC, int InC, int K, int Stride, int Pad) : ReferenceOp;
    public sealed record Relu : ReferenceOp;
    public sealed record Softmax : ReferenceOp;
    public sealed record Flatten : ReferenceOp;
    public sealed record Pool(bool Max, int K, int Stride) : ReferenceOp;
    public sealed record Unsupported(string Op) : ReferenceOp;
}

/// <summary>
/// The bound the quantized path must meet, derived from the quantization step, not guessed. With symmetric
/// per-channel quantization each weight of output channel c moves by at most s_c/2, s_c = max|W_c|/(2^{b−1} − 1).
/// For an input x known to within e (elementwise), a linear output then moves by at most
/// <code>
///   Σ_i |W_ci|·e_i + (s_c/2)·Σ_i (|x_i| + e_i)          (over the receptive field for a convolution)
/// </code>
/// ReLU and max pooling do not enlarge an elementwise bound, average pooling does not either, and softmax moves
/// each probability by at most half the largest logit error (its Jacobian's rows sum in absolute value to
/// 2p(1 − p) ≤ 1/2). Propagating (x, e) through the float network gives the bound per output, per input.
/// </summary>
internal static class QuantizationBound
{
    public static (float[] Output, double[] Bound) Propagate(IReadOnlyList<ReferenceOp> ops, float[] input, int[] inputShape, int bits)
    {
        double maxCode = (1 << (bits - 1)) - 1;
        double[] x = input.Select(v => (double)v).ToArray();
        var e = new double[x.Length];
        int[] shape = inputShape;
        foreach (ReferenceOp op in ops)
        {
            switch (op)
            {
                case ReferenceOp.Dense d:
                {
                    var y = new double[d.Out];
                    var ey = new double[d.Out];
                    for (int o = 0; o < d.Out; o++)
                    {
                        double step = Enumerable.Range(0, d.In).Max(i => Math.Abs(d.W[o * d.In + i])) / maxCode;
                        double sum = d.B[o], err = 0;
                        for (int i = 0; i < d.In; i++)
                        {
                            sum += d.W[o * d.In + i] * x[i];
                            err += Math.Abs(d.W[o * d.In + i]) * e[i] + step / 2 * (Math.Abs(x[i]) + e[i]);
                        }
                        y[o] = sum;
                        ey[o] = err;
                    }
                    (x, e, shape) = (y, ey, new[] { d.Out });
                    break;
                }
                case ReferenceOp.Conv c:
                {
                    int h = shape[1], w = shape[2];
                    int oh = (h + 2 * c.Pad - c.K) / c.Stride + 1, ow = (w + 2 * c.Pad - c.K) / c.Stride + 1;
                    var y = new double[c.OutC * oh * ow];
                    var ey = new double[y.Length];
                    int per = c.InC * c.K * c.K;
                    for (int oc = 0; oc < c.OutC; oc++)
                    {
                        double step = Enumerable.Range(0, per).Max(i => Math.Abs(c.W[oc * per + i])) / maxCode;
                        for (int oy = 0; oy < oh; oy++)
                        for (int ox = 0; ox < ow; ox++)
                        {
                            double sum = c.B[oc], err = 0;
                            for (int ic = 0; ic < c.InC; ic++)
                            for (int ky = 0; ky < c.K; ky++)
                            for (int kx = 0; kx < c.K; kx++)
                            {
                                int iy = oy * c.Stride - c.Pad + ky, ix = ox * c.Stride - c.Pad + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                double wv = c.W[((oc * c.InC + ic) * c.K + ky) * c.K + kx];
                                int at = (ic * h + iy) * w + ix;
                                sum += wv * x[at];
                                err += Math.Abs(wv) * e[at] + step / 2 * (Math.Abs(x[at]) + e[at]);
                            }
                            y[(oc * oh + oy) * ow + ox] = sum;
                            ey[(oc * oh + oy) * ow + ox] = err;
                        }
                    }
                    (x, e, shape) = (y, ey, new[] { c.OutC, oh, ow });
                    break;
                }
                case ReferenceOp.Relu:
                    x = x.Select(v => Math.Max(v, 0)).ToArray();
                    break;
                case ReferenceOp.Pool p:
                {
                    int ch = shape[0], h = shape[1], w = shape[2];
                    int oh = (h - p.K) / p.Stride + 1, ow = (w - p.K) / p.Stride + 1;
                    var y = new double[ch * oh * ow];
                    var ey = new double[y.Length];
                    for (int c = 0; c < ch; c++)
                    for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        var window = (from ky in Enumerable.Range(0, p.K) from kx in Enumerable.Range(0, p.K)
                                      select (c * h + oy * p.Stride + ky) * w + ox * p.Stride + kx).ToArray();
                        y[(c * oh + oy) * ow + ox] = p.Max ? window.Max(i => x[i]) : window.Average(i => x[i]);
                        ey[(c * oh + oy) * ow + ox] = window.Max(i => e[i]);
                    }
                    (x, e, shape) = (y, ey, new[] { ch, oh, ow });
                    break;
                }
                case ReferenceOp.Flatten:
                    shape = new[] { x.Length };
                    break;
                case ReferenceOp.Softmax:
                {
                    double max = x.Max();
                    double[] exp = x.Select(v => Math.Exp(v - max)).ToArray();
                    double total = exp.Sum();
                    double worst = e.Max();
                    x = exp.Select(v => v / total).ToArray();
                    e = e.Select(_ => worst / 2).ToArray();
                    break;
                }
                default:
                    throw new NotSupportedException(op.ToString());
            }
        }
        return (x.Select(v => (float)v).ToArray(), e);
    }
}
