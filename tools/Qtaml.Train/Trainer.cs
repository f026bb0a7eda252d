using Qtaml.Data;

namespace Qtaml.Train;

/// <summary>
/// Minibatch Adam on softmax cross-entropy. Each batch is split into two fixed halves processed on two threads
/// and their gradients summed in a fixed order, so a run is the same on any machine and core count.
/// </summary>
internal sealed class Trainer
{
    private const int Halves = 2;
    private readonly Layer[] _layers;
    private readonly int[] _inputShape;
    private readonly Workspace[] _workspaces;
    private readonly float[][] _m, _v;
    private int _step;

    public Trainer(Layer[] layers, int[] inputShape)
    {
        _layers = layers;
        _inputShape = inputShape;
        _workspaces = Enumerable.Range(0, Halves).Select(_ => new Workspace(layers, inputShape.Aggregate(1, (a, b) => a * b))).ToArray();
        _m = Parameters().Select(p => new float[p.Length]).ToArray();
        _v = Parameters().Select(p => new float[p.Length]).ToArray();
    }

    private IEnumerable<float[]> Parameters() => _layers.SelectMany(l => new[] { l.Weights, l.Bias });

    public void Train(MnistData data, int epochs, int batchSize, float learningRate, float decayPerEpoch, int seed, Action<int, double> onEpoch)
    {
        var random = new Random(seed);
        int[] order = Enumerable.Range(0, data.Count).ToArray();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            random.Shuffle(order);
            double loss = 0;
            for (int start = 0; start + batchSize <= order.Length; start += batchSize)
            {
                Parallel.For(0, Halves, half =>
                {
                    Workspace w = _workspaces[half];
                    w.ClearGradients();
                    int per = batchSize / Halves;
                    for (int i = start + half * per; i < start + (half + 1) * per; i++) w.Loss += w.Accumulate(_layers, data.Images[order[i]], data.Labels[order[i]]);
                });
                loss += _workspaces.Sum(w => w.Loss);
                foreach (var w in _workspaces) w.Loss = 0;
                Step(batchSize, learningRate * MathF.Pow(decayPerEpoch, epoch));
            }
            onEpoch(epoch, loss / order.Length);
        }
    }

    private void Step(int batchSize, float learningRate)
    {
        const float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;
        _step++;
        float correction1 = 1 - MathF.Pow(beta1, _step), correction2 = 1 - MathF.Pow(beta2, _step);
        int index = 0;
        for (int l = 0; l < _layers.Length; l++)
        {
            foreach ((float[] parameter, int which) in new[] { (_layers[l].Weights, 0), (_layers[l].Bias, 1) })
            {
                float[] m = _m[index], v = _v[index];
                for (int i = 0; i < parameter.Length; i++)
                {
                    float g = 0;
                    foreach (Workspace w in _workspaces) g += (which == 0 ? w.WeightGradients[l] : w.BiasGradients[l])[i];
                    g /= batchSize;
                    m[i] = beta1 * m[i] + (1 - beta1) * g;
                    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                    parameter[i] -= learningRate * (m[i] / correction1) / (MathF.Sqrt(v[i] / correction2) + epsilon);
                }
                index++;
            }
        }
    }

    public static int Predict(Layer[] layers, float[] input, Workspace workspace) => workspace.Predict(layers, input);

    /// <summary>Per channel, the mean and variance of layer <paramref name="layer"/>'s input over the first <paramref name="count"/> digits (what BatchNormalization records).</summary>
    public (float[] Mean, float[] Variance) InputStatistics(int layer, int channels, MnistData data, int count)
    {
        Workspace w = _workspaces[0];
        var sum = new double[channels];
        var squares = new double[channels];
        long perChannel = 0;
        for (int n = 0; n < count; n++)
        {
            w.Predict(_layers, data.Images[n]);
            float[] x = w.InputOf(layer);
            int plane = x.Length / channels;
            for (int c = 0; c < channels; c++)
                for (int i = c * plane; i < (c + 1) * plane; i++)
                {
                    sum[c] += x[i];
                    squares[c] += (double)x[i] * x[i];
                }
            perChannel += plane;
        }
        return (sum.Select(s => (float)(s / perChannel)).ToArray(), sum.Zip(squares, (s, q) => (float)Math.Max(q / perChannel - (s / perChannel) * (s / perChannel), 0)).ToArray());
    }

    public double Accuracy(MnistData data)
    {
        Workspace w = _workspaces[0];
        int correct = 0;
        for (int i = 0; i < data.Count; i++) if (w.Predict(_layers, data.Images[i]) == data.Labels[i]) correct++;
        return (double)correct / data.Count;
    }

    internal sealed class Workspace
    {
        private readonly float[][] _activations, _deltas;

        public Workspace(Layer[] layers, int inputLength)
        {
            _activations = new[] { new float[inputLength] }.Concat(layers.Select(l => new float[l.OutputLength])).ToArray();
            _deltas = new[] { new float[inputLength] }.Concat(layers.Select(l => new float[l.OutputLength])).ToArray();
            WeightGradients = layers.Select(l => new float[l.Weights.Length]).ToArray();
            BiasGradients = layers.Select(l => new float[l.Bias.Length]).ToArray();
        }

        public float[][] WeightGradients { get; }
        public float[][] BiasGradients { get; }
        public double Loss { get; set; }

        public void ClearGradients()
        {
            foreach (float[] g in WeightGradients.Concat(BiasGradients)) Array.Clear(g);
        }

        private float[] Forward(Layer[] layers, float[] input)
        {
            Array.Copy(input, _activations[0], input.Length);
            for (int l = 0; l < layers.Length; l++)
            {
                if (layers[l] is AddSkip add) add.Forward(_activations[l], _activations[add.From + 1], _activations[l + 1]);
                else layers[l].Forward(_activations[l], _activations[l + 1]);
            }
            return _activations[layers.Length];
        }

        /// <summary>The input of layer <paramref name="layer"/> for one sample (after <see cref="Predict"/> ran it).</summary>
        public float[] InputOf(int layer) => _activations[layer];

        public int Predict(Layer[] layers, float[] input)
        {
            float[] logits = Forward(layers, input);
            int best = 0;
            for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
            return best;
        }

        /// <summary>Forward and backward for one sample; returns its cross-entropy.</summary>
        public double Accumulate(Layer[] layers, float[] input, int label)
        {
            float[] logits = Forward(layers, input);
            float max = logits.Max();
            double sum = logits.Sum(v => Math.Exp(v - max));
            float[] delta = _deltas[layers.Length];
            for (int i = 0; i < logits.Length; i++) delta[i] = (float)(Math.Exp(logits[i] - max) / sum) - (i == label ? 1 : 0);
            for (int l = layers.Length - 1; l >= 0; l--)
            {
                layers[l].Backward(_activations[l], _activations[l + 1], _deltas[l + 1], _deltas[l], WeightGradients[l], BiasGradients[l]);
                // _deltas[l] is now complete but for residual adds that read activation l: their output gradient joins it.
                for (int j = l; j < layers.Length; j++)
                    if (layers[j] is AddSkip add && add.From + 1 == l)
                        for (int i = 0; i < _deltas[l].Length; i++) _deltas[l][i] += _deltas[j + 1][i];
            }
            return -(logits[label] - max - Math.Log(sum));
        }
    }
}
