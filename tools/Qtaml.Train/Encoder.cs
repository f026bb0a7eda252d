using Qtaml.Numerics;

namespace Qtaml.Train;

/// <summary>
/// A one-block pre-norm transformer encoder over a digit read as a sequence: each of the 28 rows is a token of
/// 28 pixels. Token embedding (a linear map) plus a learned position embedding, then
/// <code>
///   h   = e + Attention(LN1(e))          multi-head self-attention, Q, K, V and output projections
///   z   = h + W2·GELU(W1·LN2(h) + b1) + b2
///   out = Wc·mean_t(LNf(z)) + bc         mean over tokens, then the classifier
/// </code>
/// Parameters live here; activations and gradients in a <see cref="Pass"/>, one per training thread.
/// Matrices are stored [in, out] as ONNX MatMul takes them.
/// </summary>
internal sealed class Encoder
{
    public const int Tokens = 28, Features = 28;

    public Encoder(int width, int heads, int hidden, int classes, Random random)
    {
        if (width % heads != 0) throw new ArgumentException("The width must split evenly across the heads.");
        (Width, Heads, Hidden, Classes) = (width, heads, hidden, classes);
        TokenWeight = Xavier(Features, width, random); TokenBias = new float[width];
        Position = Gaussian(Tokens * width, 0.02, random);
        Ln1Gamma = Ones(width); Ln1Beta = new float[width];
        Query = Xavier(width, width, random); QueryBias = new float[width];
        Key = Xavier(width, width, random); KeyBias = new float[width];
        Value = Xavier(width, width, random); ValueBias = new float[width];
        Output = Xavier(width, width, random); OutputBias = new float[width];
        Ln2Gamma = Ones(width); Ln2Beta = new float[width];
        Up = Xavier(width, hidden, random); UpBias = new float[hidden];
        Down = Xavier(hidden, width, random); DownBias = new float[width];
        LnfGamma = Ones(width); LnfBeta = new float[width];
        Classifier = Xavier(width, classes, random); ClassifierBias = new float[classes];
    }

    public int Width { get; }
    public int Heads { get; }
    public int HeadWidth => Width / Heads;
    public int Hidden { get; }
    public int Classes { get; }

    public float[] TokenWeight { get; } public float[] TokenBias { get; }
    public float[] Position { get; }
    public float[] Ln1Gamma { get; } public float[] Ln1Beta { get; }
    public float[] Query { get; } public float[] QueryBias { get; }
    public float[] Key { get; } public float[] KeyBias { get; }
    public float[] Value { get; } public float[] ValueBias { get; }
    public float[] Output { get; } public float[] OutputBias { get; }
    public float[] Ln2Gamma { get; } public float[] Ln2Beta { get; }
    public float[] Up { get; } public float[] UpBias { get; }
    public float[] Down { get; } public float[] DownBias { get; }
    public float[] LnfGamma { get; } public float[] LnfBeta { get; }
    public float[] Classifier { get; } public float[] ClassifierBias { get; }

    /// <summary>Every parameter tensor, in a fixed order (the optimizer's and the gradients').</summary>
    public float[][] Parameters => new[]
    {
        TokenWeight, TokenBias, Position, Ln1Gamma, Ln1Beta, Query, QueryBias, Key, KeyBias, Value, ValueBias,
        Output, OutputBias, Ln2Gamma, Ln2Beta, Up, UpBias, Down, DownBias, LnfGamma, LnfBeta, Classifier, ClassifierBias,
    };

    public int ParameterCount => Parameters.Sum(p => p.Length);

    private static float[] Xavier(int fanIn, int fanOut, Random random)
    {
        double limit = Math.Sqrt(6.0 / (fanIn + fanOut));
        var w = new float[fanIn * fanOut];
        for (int i = 0; i < w.Length; i++) w[i] = (float)((random.NextDouble() * 2 - 1) * limit);
        return w;
    }

    private static float[] Gaussian(int length, double sigma, Random random)
    {
        var w = new float[length];
        for (int i = 0; i < length; i++)
            w[i] = (float)(sigma * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        return w;
    }

    private static float[] Ones(int length) => Enumerable.Repeat(1f, length).ToArray();

    /// <summary>One sample's forward and backward pass: the activations it keeps and the gradients it adds up.</summary>
    internal sealed class Pass
    {
        private const float Epsilon = 1e-5f;
        private readonly Encoder _m;
        private readonly int T = Tokens, D, H, Dk, F;
        // Activations, [token, feature] row-major.
        private readonly float[] _x, _e, _n1, _mean1, _rstd1, _q, _k, _v, _p, _a, _h, _n2, _mean2, _rstd2, _u, _g, _z, _nf, _meanf, _rstdf, _pooled, _logits;
        // Gradient scratch.
        private readonly float[] _de, _dn1, _dq, _dk, _dv, _dp, _da, _dh, _dn2, _du, _dg, _dz, _dnf, _dpooled;

        public Pass(Encoder model)
        {
            _m = model;
            (D, H, Dk, F) = (model.Width, model.Heads, model.HeadWidth, model.Hidden);
            float[] Td() => new float[T * D];
            _x = new float[T * Features];
            (_e, _n1, _q, _k, _v, _a, _h, _n2, _z, _nf) = (Td(), Td(), Td(), Td(), Td(), Td(), Td(), Td(), Td(), Td());
            (_mean1, _rstd1, _mean2, _rstd2, _meanf, _rstdf) = (new float[T], new float[T], new float[T], new float[T], new float[T], new float[T]);
            _p = new float[H * T * T];
            (_u, _g) = (new float[T * F], new float[T * F]);
            _pooled = new float[D];
            _logits = new float[model.Classes];
            (_de, _dn1, _dq, _dk, _dv, _da, _dh, _dn2, _dz, _dnf) = (Td(), Td(), Td(), Td(), Td(), Td(), Td(), Td(), Td(), Td());
            _dp = new float[H * T * T];
            (_du, _dg) = (new float[T * F], new float[T * F]);
            _dpooled = new float[D];
            Gradients = model.Parameters.Select(p => new float[p.Length]).ToArray();
        }

        public float[][] Gradients { get; }
        public double Loss { get; set; }

        public void ClearGradients()
        {
            foreach (float[] g in Gradients) Array.Clear(g);
        }

        public float[] Forward(float[] image)
        {
            Encoder m = _m;
            Array.Copy(image, _x, _x.Length);
            Linear(_x, T, Features, m.TokenWeight, m.TokenBias, D, _e);
            for (int i = 0; i < T * D; i++) _e[i] += m.Position[i];

            LayerNorm(_e, m.Ln1Gamma, m.Ln1Beta, _n1, _mean1, _rstd1);
            Linear(_n1, T, D, m.Query, m.QueryBias, D, _q);
            Linear(_n1, T, D, m.Key, m.KeyBias, D, _k);
            Linear(_n1, T, D, m.Value, m.ValueBias, D, _v);
            Attention();
            Linear(_a, T, D, m.Output, m.OutputBias, D, _h);
            for (int i = 0; i < T * D; i++) _h[i] += _e[i];

            LayerNorm(_h, m.Ln2Gamma, m.Ln2Beta, _n2, _mean2, _rstd2);
            Linear(_n2, T, D, m.Up, m.UpBias, F, _u);
            for (int i = 0; i < T * F; i++) _g[i] = SpecialFunctions.Gelu(_u[i]);
            Linear(_g, T, F, m.Down, m.DownBias, D, _z);
            for (int i = 0; i < T * D; i++) _z[i] += _h[i];

            LayerNorm(_z, m.LnfGamma, m.LnfBeta, _nf, _meanf, _rstdf);
            Array.Clear(_pooled);
            for (int t = 0; t < T; t++)
                for (int d = 0; d < D; d++) _pooled[d] += _nf[t * D + d] / T;
            Linear(_pooled, 1, D, m.Classifier, m.ClassifierBias, m.Classes, _logits);
            return _logits;
        }

        private void Attention()
        {
            float scale = 1f / MathF.Sqrt(Dk);
            Array.Clear(_a);
            for (int h = 0; h < H; h++)
                for (int t = 0; t < T; t++)
                {
                    int row = (h * T + t) * T;
                    float max = float.NegativeInfinity;
                    for (int s = 0; s < T; s++)
                    {
                        float dot = 0;
                        for (int j = 0; j < Dk; j++) dot += _q[t * D + h * Dk + j] * _k[s * D + h * Dk + j];
                        _p[row + s] = dot * scale;
                        max = MathF.Max(max, _p[row + s]);
                    }
                    float sum = 0;
                    for (int s = 0; s < T; s++) sum += _p[row + s] = MathF.Exp(_p[row + s] - max);
                    for (int s = 0; s < T; s++) _p[row + s] /= sum;
                    for (int s = 0; s < T; s++)
                    {
                        float p = _p[row + s];
                        for (int j = 0; j < Dk; j++) _a[t * D + h * Dk + j] += p * _v[s * D + h * Dk + j];
                    }
                }
        }

        /// <summary>Forward and backward for one sample; returns its cross-entropy.</summary>
        public double Accumulate(float[] image, int label)
        {
            Encoder m = _m;
            float[] logits = Forward(image);
            float max = logits.Max();
            double sum = logits.Sum(v => Math.Exp(v - max));
            var dlogits = new float[logits.Length];
            for (int i = 0; i < logits.Length; i++) dlogits[i] = (float)(Math.Exp(logits[i] - max) / sum) - (i == label ? 1 : 0);

            LinearBackward(_pooled, 1, D, m.Classifier, m.Classes, dlogits, _dpooled, Gradients[21], Gradients[22]);
            for (int t = 0; t < T; t++)
                for (int d = 0; d < D; d++) _dnf[t * D + d] = _dpooled[d] / T;
            LayerNormBackward(_z, _dnf, m.LnfGamma, _meanf, _rstdf, _dz, Gradients[19], Gradients[20]);

            // z = h + FFN(LN2(h)): the residual passes dz to h unchanged.
            LinearBackward(_g, T, F, m.Down, D, _dz, _dg, Gradients[17], Gradients[18]);
            for (int i = 0; i < T * F; i++)
            {
                double x = _u[i];
                double cdf = 0.5 * (1 + SpecialFunctions.Erf((float)(x * 0.7071067811865476)));
                double pdf = Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);
                _du[i] = (float)(_dg[i] * (cdf + x * pdf));
            }
            LinearBackward(_n2, T, D, m.Up, F, _du, _dn2, Gradients[15], Gradients[16]);
            LayerNormBackward(_h, _dn2, m.Ln2Gamma, _mean2, _rstd2, _dh, Gradients[13], Gradients[14]);
            for (int i = 0; i < T * D; i++) _dh[i] += _dz[i];

            // h = e + Wo·Attention(LN1(e)).
            LinearBackward(_a, T, D, m.Output, D, _dh, _da, Gradients[11], Gradients[12]);
            AttentionBackward();
            Array.Clear(_dn1);
            AddLinearBackward(_n1, T, D, m.Query, D, _dq, _dn1, Gradients[5], Gradients[6]);
            AddLinearBackward(_n1, T, D, m.Key, D, _dk, _dn1, Gradients[7], Gradients[8]);
            AddLinearBackward(_n1, T, D, m.Value, D, _dv, _dn1, Gradients[9], Gradients[10]);
            LayerNormBackward(_e, _dn1, m.Ln1Gamma, _mean1, _rstd1, _de, Gradients[3], Gradients[4]);
            for (int i = 0; i < T * D; i++) _de[i] += _dh[i];

            for (int i = 0; i < T * D; i++) Gradients[2][i] += _de[i];
            var unused = new float[T * Features];
            LinearBackward(_x, T, Features, m.TokenWeight, D, _de, unused, Gradients[0], Gradients[1]);
            return -(logits[label] - max - Math.Log(sum));
        }

        private void AttentionBackward()
        {
            float scale = 1f / MathF.Sqrt(Dk);
            Array.Clear(_dq);
            Array.Clear(_dk);
            Array.Clear(_dv);
            for (int h = 0; h < H; h++)
                for (int t = 0; t < T; t++)
                {
                    int row = (h * T + t) * T;
                    // dP = dA · Vᵀ, dV += Pᵀ · dA.
                    float dot = 0;
                    for (int s = 0; s < T; s++)
                    {
                        float dp = 0, p = _p[row + s];
                        for (int j = 0; j < Dk; j++)
                        {
                            float da = _da[t * D + h * Dk + j];
                            dp += da * _v[s * D + h * Dk + j];
                            _dv[s * D + h * Dk + j] += p * da;
                        }
                        _dp[row + s] = dp;
                        dot += dp * p;
                    }
                    // Through the softmax: dS = P ∘ (dP − Σ dP·P); then the scaled dot products.
                    for (int s = 0; s < T; s++)
                    {
                        float ds = _p[row + s] * (_dp[row + s] - dot) * scale;
                        for (int j = 0; j < Dk; j++)
                        {
                            _dq[t * D + h * Dk + j] += ds * _k[s * D + h * Dk + j];
                            _dk[s * D + h * Dk + j] += ds * _q[t * D + h * Dk + j];
                        }
                    }
                }
        }

        private void LayerNorm(float[] x, float[] gamma, float[] beta, float[] y, float[] mean, float[] rstd)
        {
            for (int t = 0; t < T; t++)
            {
                float mu = 0, variance = 0;
                for (int d = 0; d < D; d++) mu += x[t * D + d];
                mu /= D;
                for (int d = 0; d < D; d++) variance += (x[t * D + d] - mu) * (x[t * D + d] - mu);
                float r = 1f / MathF.Sqrt(variance / D + Epsilon);
                (mean[t], rstd[t]) = (mu, r);
                for (int d = 0; d < D; d++) y[t * D + d] = (x[t * D + d] - mu) * r * gamma[d] + beta[d];
            }
        }

        private void LayerNormBackward(float[] x, float[] dy, float[] gamma, float[] mean, float[] rstd, float[] dx, float[] dGamma, float[] dBeta)
        {
            for (int t = 0; t < T; t++)
            {
                float sumG = 0, sumGx = 0;
                for (int d = 0; d < D; d++)
                {
                    float xhat = (x[t * D + d] - mean[t]) * rstd[t];
                    float g = dy[t * D + d] * gamma[d];
                    dGamma[d] += dy[t * D + d] * xhat;
                    dBeta[d] += dy[t * D + d];
                    sumG += g;
                    sumGx += g * xhat;
                }
                for (int d = 0; d < D; d++)
                {
                    float xhat = (x[t * D + d] - mean[t]) * rstd[t];
                    dx[t * D + d] = rstd[t] * (dy[t * D + d] * gamma[d] - sumG / D - xhat * sumGx / D);
                }
            }
        }

        /// <summary>y[r, o] = Σ_i x[r, i]·W[i, o] + b[o].</summary>
        private static void Linear(float[] x, int rows, int inputs, float[] w, float[] b, int outputs, float[] y)
        {
            for (int r = 0; r < rows; r++)
            {
                Span<float> yr = y.AsSpan(r * outputs, outputs);
                b.AsSpan().CopyTo(yr);
                for (int i = 0; i < inputs; i++)
                {
                    float xi = x[r * inputs + i];
                    if (xi == 0) continue;
                    ReadOnlySpan<float> wi = w.AsSpan(i * outputs, outputs);
                    for (int o = 0; o < outputs; o++) yr[o] += xi * wi[o];
                }
            }
        }

        private static void LinearBackward(float[] x, int rows, int inputs, float[] w, int outputs, float[] dy, float[] dx, float[] dW, float[] dB)
        {
            Array.Clear(dx, 0, rows * inputs);
            AddLinearBackward(x, rows, inputs, w, outputs, dy, dx, dW, dB);
        }

        /// <summary>Adds dL/dx to <paramref name="dx"/> and the parameter gradients to dW, dB.</summary>
        private static void AddLinearBackward(float[] x, int rows, int inputs, float[] w, int outputs, float[] dy, float[] dx, float[] dW, float[] dB)
        {
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<float> dyr = dy.AsSpan(r * outputs, outputs);
                for (int o = 0; o < outputs; o++) dB[o] += dyr[o];
                for (int i = 0; i < inputs; i++)
                {
                    float xi = x[r * inputs + i];
                    Span<float> dWi = dW.AsSpan(i * outputs, outputs);
                    ReadOnlySpan<float> wi = w.AsSpan(i * outputs, outputs);
                    float sum = 0;
                    for (int o = 0; o < outputs; o++)
                    {
                        dWi[o] += xi * dyr[o];
                        sum += wi[o] * dyr[o];
                    }
                    dx[r * inputs + i] += sum;
                }
            }
        }
    }
}
