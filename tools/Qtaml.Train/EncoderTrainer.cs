using Qtaml.Data;

namespace Qtaml.Train;

/// <summary>
/// Minibatch AdamW on the encoder with a warm-up and cosine learning-rate schedule, and small random shifts of
/// each digit (up to two pixels each way) so that 8,000 digits go further. As in <see cref="Trainer"/>, each batch
/// is split into two fixed halves on two threads and the gradients summed in a fixed order; every shift is drawn
/// from the sample's epoch and index alone, so a run is the same on any machine.
/// </summary>
internal sealed class EncoderTrainer
{
    private const int Halves = 2;
    private readonly Encoder _model;
    private readonly Encoder.Pass[] _passes;
    private readonly float[][] _m, _v;
    private int _step;

    public EncoderTrainer(Encoder model)
    {
        _model = model;
        _passes = Enumerable.Range(0, Halves).Select(_ => new Encoder.Pass(model)).ToArray();
        _m = model.Parameters.Select(p => new float[p.Length]).ToArray();
        _v = model.Parameters.Select(p => new float[p.Length]).ToArray();
    }

    public void Train(MnistData data, int epochs, int batchSize, float learningRate, float weightDecay, int seed, Action<int, double> onEpoch)
    {
        var random = new Random(seed);
        int[] order = Enumerable.Range(0, data.Count).ToArray();
        int stepsPerEpoch = data.Count / batchSize, totalSteps = epochs * stepsPerEpoch, warmup = stepsPerEpoch;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            random.Shuffle(order);
            double loss = 0;
            for (int start = 0; start + batchSize <= order.Length; start += batchSize)
            {
                Parallel.For(0, Halves, half =>
                {
                    Encoder.Pass pass = _passes[half];
                    pass.ClearGradients();
                    var shifted = new float[MnistData.Pixels];
                    int per = batchSize / Halves;
                    for (int i = start + half * per; i < start + (half + 1) * per; i++)
                    {
                        Shift(data.Images[order[i]], shifted, epoch, order[i]);
                        pass.Loss += pass.Accumulate(shifted, data.Labels[order[i]]);
                    }
                });
                loss += _passes.Sum(p => p.Loss);
                foreach (Encoder.Pass p in _passes) p.Loss = 0;
                double progress = (double)_step / totalSteps;
                float rate = _step < warmup ? learningRate * (_step + 1) / warmup : (float)(learningRate * 0.5 * (1 + Math.Cos(Math.PI * progress)));
                Step(batchSize, rate, weightDecay);
            }
            onEpoch(epoch, loss / order.Length);
        }
    }

    /// <summary>The digit moved by (dx, dy) ∈ [−2, 2]², drawn from a hash of (epoch, index); zeros fill in.</summary>
    private static void Shift(float[] image, float[] shifted, int epoch, int index)
    {
        ulong h = (ulong)(epoch * 1_000_003L + index) * 0x9E3779B97F4A7C15UL;
        h ^= h >> 31;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 29;
        int dx = (int)(h % 5) - 2, dy = (int)(h / 5 % 5) - 2;
        Array.Clear(shifted);
        for (int y = 0; y < 28; y++)
        {
            int sy = y - dy;
            if ((uint)sy >= 28u) continue;
            for (int x = 0; x < 28; x++)
            {
                int sx = x - dx;
                if ((uint)sx < 28u) shifted[y * 28 + x] = image[sy * 28 + sx];
            }
        }
    }

    private void Step(int batchSize, float learningRate, float weightDecay)
    {
        const float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;
        _step++;
        float correction1 = 1 - MathF.Pow(beta1, _step), correction2 = 1 - MathF.Pow(beta2, _step);
        float[][] parameters = _model.Parameters;
        for (int p = 0; p < parameters.Length; p++)
        {
            float[] parameter = parameters[p], m = _m[p], v = _v[p];
            // Decay the matrices only, not biases, norms or the position table.
            bool decay = parameter.Length > _model.Width * 4 && parameter != _model.Position;
            for (int i = 0; i < parameter.Length; i++)
            {
                float g = 0;
                foreach (Encoder.Pass pass in _passes) g += pass.Gradients[p][i];
                g /= batchSize;
                m[i] = beta1 * m[i] + (1 - beta1) * g;
                v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                parameter[i] -= learningRate * ((m[i] / correction1) / (MathF.Sqrt(v[i] / correction2) + epsilon) + (decay ? weightDecay * parameter[i] : 0));
            }
        }
    }

    public double Accuracy(MnistData data)
    {
        Encoder.Pass pass = _passes[0];
        int correct = 0;
        for (int i = 0; i < data.Count; i++)
        {
            float[] logits = pass.Forward(data.Images[i]);
            int best = 0;
            for (int k = 1; k < logits.Length; k++) if (logits[k] > logits[best]) best = k;
            if (best == data.Labels[i]) correct++;
        }
        return (double)correct / data.Count;
    }

    /// <summary>
    /// Compares the analytic gradient with central differences on a few parameters of every tensor; returns the
    /// largest relative error (a check of the hand-written backward pass, run with --check).
    /// </summary>
    public static double GradientCheck(Encoder model, float[] image, int label)
    {
        var pass = new Encoder.Pass(model);
        pass.ClearGradients();
        pass.Accumulate(image, label);
        double worst = 0;
        float[][] parameters = model.Parameters;
        var random = new Random(1);
        for (int p = 0; p < parameters.Length; p++)
            for (int trial = 0; trial < 4; trial++)
            {
                int i = random.Next(parameters[p].Length);
                float saved = parameters[p][i];
                const float h = 1e-2f;
                parameters[p][i] = saved + h;
                double plus = Loss(pass, image, label);
                parameters[p][i] = saved - h;
                double minus = Loss(pass, image, label);
                parameters[p][i] = saved;
                double numeric = (plus - minus) / (2 * h), analytic = pass.Gradients[p][i];
                double error = Math.Abs(numeric - analytic) / Math.Max(1e-3, Math.Abs(numeric) + Math.Abs(analytic));
                worst = Math.Max(worst, error);
                if (error > 0.05) Console.WriteLine($"  parameter tensor {p} index {i}: analytic {analytic:G5}, numeric {numeric:G5}");
            }
        return worst;
    }

    private static double Loss(Encoder.Pass pass, float[] image, int label)
    {
        float[] logits = pass.Forward(image);
        double max = logits.Max();
        return -(logits[label] - max - Math.Log(logits.Sum(v => Math.Exp(v - max))));
    }
}
