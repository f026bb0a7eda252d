using System;
using System.Linq;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Planning;

/// <summary>
/// G_l estimated from the weights alone, with no evaluation (DESIGN 3.5.2): the fallback of <see cref="Sensitivity"/>
/// when the network cannot be evaluated on synthetic inputs, and what an unquantized build reports. Its products of
/// per-layer gains compound over depth (a mismatch of a few percent per layer is orders of magnitude after 50), so
/// <see cref="Estimate"/> carries them as logarithms and returns them scaled so the largest is 1.
///
/// G_l, the data-free sensitivity of the network's output to a unit error in one weight of layer l. A weight error e in layer l changes each output it feeds by e·x, where x is that layer's
/// input; it feeds <see cref="WeightLayer.Reuse"/> outputs (every position of a convolution, every token of a
/// transformer projection). The change then travels to the network's output through the later layers, each of
/// which passes a unit change at one of its inputs to its outputs with a mean squared gain (the squared
/// Frobenius norm of its Jacobian per input). So
/// <code>
///   G_l = E[x_l²] · reuse_l · (squared gain from layer l's output to the network's output)
/// </code>
/// E[x²] is carried forward from the input's mean square (the attribute's InputMeanSquare, default 1) by the
/// same reasoning. In a chain every G_l scales with it alike, so the plan does not depend on it; a LayerNorm
/// divides by its input's scale, so in a transformer it moves the layers before the first normalization against
/// the rest. Calibration data would sharpen every E[x²].
///
/// In a graph that is not a chain a value may feed several layers (a residual stream feeds attention and the
/// skip connection); its gain to the output is the sum over those paths, which treats the paths' errors as
/// uncorrelated. The gains per operator (inputs zero-mean with mean square m, outputs y):
/// <list type="bullet">
/// <item>dense/conv W: forward ‖W‖²/outputs, backward ‖W‖²/inputs (per output position for a convolution);</item>
/// <item>ReLU and GELU pass about half: 1/2 both ways; pooling over k inputs passes one of them: 1/k;</item>
/// <item>LayerNorm divides by the input's deviation: backward mean(γ²)/m, forward mean(γ²) + mean(β²);</item>
/// <item>a residual Add passes 1 to each side; Mul and Div by a constant c scale by mean(c²) and mean(1/c²);</item>
/// <item>attention's A[M,K]·B[K,N]: backward N·E[b²] to A and M·E[a²] to B, forward K·E[a²]·E[b²];</item>
/// <item>a softmax over n entries near uniform (p ≈ 1/n) has Jacobian diag(p) − ppᵀ, of squared gain ≈ 1/n²
///   per input, and outputs of mean square 1/n²; the network's final softmax does not change the predicted
///   class, so distortion is measured at its input (gain 1);</item>
/// <item>a mean over n entries passes 1/n² per input; Transpose, Reshape and Concat move values unchanged.</item>
/// </list>
/// The output of an attention block therefore depends little on Q and K (their errors pass a softmax) and
/// fully on V and the output projection, as the Jacobian says.
/// </summary>
internal static class AnalyticSensitivity
{
    /// <summary>The mean squares carried forward stay within these bounds: no trained network's activations leave them.</summary>
    private const double SmallestMeanSquare = 1e-30, LargestMeanSquare = 1e30;

    public static double[] Estimate(NetworkGraph graph, double inputMeanSquare = 1)
    {
        Layer[] layers = graph.Layers;
        // meanSquare[v]: E[x²] of value v, from a unit-mean-square network input.
        var meanSquare = new double[layers.Length + 1];
        meanSquare[0] = inputMeanSquare;
        for (int i = 0; i < layers.Length; i++)
        {
            double forward = Forward(layers[i], meanSquare);
            meanSquare[i + 1] = double.IsNaN(forward) ? 1 : Math.Min(Math.Max(forward, SmallestMeanSquare), LargestMeanSquare);
        }

        // logDownstream[v]: the logarithm of the squared gain from one element of value v to the network's output,
        // summed over paths as log-sum-exp, so a product of a thousand gains neither overflows nor underflows.
        var logDownstream = Enumerable.Repeat(double.NegativeInfinity, layers.Length + 1).ToArray();
        foreach (GraphPort output in graph.Outputs) logDownstream[output.Value] = 0;
        for (int i = layers.Length - 1; i >= 0; i--)
        {
            double after = logDownstream[i + 1];
            if (double.IsNegativeInfinity(after)) continue;
            bool finalSoftmax = layers[i] is SoftmaxLayer && graph.Outputs.Any(o => o.Value == i + 1);
            for (int k = 0; k < layers[i].Inputs.Length; k++)
            {
                double gain = finalSoftmax ? 1 : Backward(layers[i], k, meanSquare);
                if (!(gain > 0) || double.IsNaN(gain)) continue;
                int input = layers[i].Inputs[k];
                logDownstream[input] = LogAdd(logDownstream[input], after + Math.Log(Math.Min(gain, double.MaxValue)));
            }
        }

        double[] logG = layers
            .Select((layer, i) => (layer, i))
            .Where(p => p.layer is WeightLayer)
            .Select(p =>
            {
                var weights = (WeightLayer)p.layer;
                double input = weights is EmbeddingLayer ? 1 : meanSquare[weights.Inputs[0]];
                return Math.Log(Math.Max(input, SmallestMeanSquare)) + Math.Log(weights.Reuse) + logDownstream[p.i + 1];
            })
            .ToArray();
        return Normalised(logG);
    }

    /// <summary>exp(logG − max logG): the largest sensitivity 1, the others in [0, 1], whatever the network's depth.</summary>
    public static double[] Normalised(double[] logG)
    {
        double max = logG.Where(v => !double.IsNaN(v)).DefaultIfEmpty(double.NegativeInfinity).Max();
        if (double.IsNegativeInfinity(max) || double.IsPositiveInfinity(max)) return logG.Select(_ => 1.0).ToArray();
        return logG.Select(v => double.IsNaN(v) ? 1 : Math.Exp(v - max)).ToArray();
    }

    /// <summary>log(eᵃ + eᵇ) without leaving the range of doubles.</summary>
    private static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        if (double.IsNegativeInfinity(b)) return a;
        double high = Math.Max(a, b);
        return high + Math.Log(Math.Exp(a - high) + Math.Exp(b - high));
    }

    private static double FrobeniusSquared(WeightLayer layer) => layer.Weights.Sum(w => (double)w * w);

    private static double MeanSquare(float[] values) => values.Length == 0 ? 0 : values.Average(v => (double)v * v);

    private static double MeanSquare(Operand operand, double[] meanSquare) => operand.IsConstant ? MeanSquare(operand.Constant!) : meanSquare[operand.Value];

    /// <summary>E[y²] of a layer's output, for independent zero-mean inputs.</summary>
    private static double Forward(Layer layer, double[] meanSquare)
    {
        double input = layer.Inputs.Length > 0 ? meanSquare[layer.Inputs[0]] : 1;
        switch (layer)
        {
            case EmbeddingLayer e: return MeanSquare(e.Weights);
            case WeightLayer w: return input * FrobeniusSquared(w) / w.Channels;   // each output sums its row: Σ w² E[x²]
            case GraphInputLayer: return meanSquare[0];   // every input is taken to have the first one's mean square
            case ReluLayer: return 0.5 * input;
            case UnaryLayer u: return u.Kind switch
            {
                UnaryKind.Gelu => 0.5 * input,
                UnaryKind.Erf or UnaryKind.Tanh => Math.Min(1, input),
                UnaryKind.Sigmoid => 0.25,
                UnaryKind.Sqrt => Math.Sqrt(input),
                UnaryKind.Reciprocal => 1 / Math.Max(input, 1e-30),
                UnaryKind.Exp => Math.Exp(2 * Math.Sqrt(input)),
                UnaryKind.LeakyRelu => 0.5 * input * (1 + u.Alpha * u.Alpha),
                UnaryKind.Elu or UnaryKind.Selu or UnaryKind.Softplus or UnaryKind.HardSwish => 0.5 * input * (u.Kind == UnaryKind.Selu ? u.Beta * u.Beta : 1),
                UnaryKind.Softsign => Math.Min(1, input),
                UnaryKind.HardSigmoid => 0.25,
                UnaryKind.Clip => Math.Min(input, Math.Max(u.Alpha * u.Alpha, u.Beta * u.Beta)),
                _ => input,   // neg, abs, log: the scale of the values is kept, roughly
            };
            case BinaryLayer b:
            {
                double left = MeanSquare(b.Left, meanSquare), right = MeanSquare(b.Right, meanSquare);
                return b.Kind switch
                {
                    BinaryKind.Add or BinaryKind.Sub => left + right,
                    BinaryKind.Mul => left * right,
                    BinaryKind.Div => left / Math.Max(right, 1e-30),
                    BinaryKind.Max or BinaryKind.Min => Math.Max(left, right),
                    BinaryKind.PRelu => 0.5 * left * (1 + right),   // half the inputs pass, half are scaled by the slope
                    >= BinaryKind.Equal => 0.5,   // booleans: 0 or 1
                    _ => left * left,   // Pow: a square, as in a decomposed LayerNorm
                };
            }
            case LayerNormLayer n: return MeanSquare(n.Gamma) + MeanSquare(n.Beta);
            case WhereLayer where: return Math.Max(MeanSquare(where.WhenTrue, meanSquare), MeanSquare(where.WhenFalse, meanSquare));
            case MatMulLayer m: return m.K * input * meanSquare[layer.Inputs[1]];
            case SoftmaxLayer s: return 1.0 / s.Length;
            case ConcatLayer c: return c.Parts.Sum(p => p.Length * MeanSquare(p, meanSquare)) / c.OutputLength;
            default: return input;   // reshape, transpose, pooling, mean: the values' scale is kept
        }
    }

    /// <summary>The mean squared gain from one element of input <paramref name="k"/> of a layer to all its outputs.</summary>
    private static double Backward(Layer layer, int k, double[] meanSquare)
    {
        switch (layer)
        {
            case DenseLayer d: return FrobeniusSquared(d) / d.InputCount;
            case ConvLayer c: return FrobeniusSquared(c) / c.InChannels / ((double)c.Window.StrideD * c.Window.StrideH * c.Window.StrideW);
            case ReluLayer: return 0.5;
            case PoolLayer p: return 1.0 / p.Window.Size;
            case UnaryLayer u:
            {
                double input = meanSquare[u.Inputs[0]];
                return u.Kind switch
                {
                    UnaryKind.Gelu => 0.5,
                    UnaryKind.Erf => 4 / Math.PI / Math.Sqrt(1 + 4 * input),   // E[erf'(x)²] for Gaussian x
                    UnaryKind.Tanh => 1 / Math.Sqrt(1 + 4 * input),
                    UnaryKind.Sigmoid => 1.0 / 16,
                    UnaryKind.Sqrt => 1 / (4 * Math.Max(input, 1e-30)),
                    UnaryKind.Reciprocal => 1 / Math.Max(input * input, 1e-30),
                    UnaryKind.Exp => Math.Exp(2 * Math.Sqrt(input)),
                    UnaryKind.LeakyRelu => 0.5 * (1 + u.Alpha * u.Alpha),
                    UnaryKind.Elu or UnaryKind.Softplus or UnaryKind.HardSwish => 0.5,
                    UnaryKind.Selu => 0.5 * u.Beta * u.Beta,
                    UnaryKind.Softsign => 1 / Math.Sqrt(1 + 4 * input),
                    UnaryKind.HardSigmoid => u.Alpha * u.Alpha * 0.5,
                    UnaryKind.Log => 1 / Math.Max(input, 1e-30),
                    UnaryKind.Not => 0,
                    _ => 1,   // neg, abs, clip: slope 1 where they pass values
                };
            }
            case BinaryLayer b:
            {
                Operand self = Operands(b)[k], other = ReferenceEquals(self, b.Left) ? b.Right : b.Left;
                double fanOut = (double)b.OutputLength / self.Length;   // a broadcast element feeds this many outputs
                double otherSquare = MeanSquare(other, meanSquare);
                double gain = b.Kind switch
                {
                    BinaryKind.Add or BinaryKind.Sub => 1,
                    BinaryKind.Mul => otherSquare,
                    BinaryKind.Div => ReferenceEquals(self, b.Left)
                        ? (other.IsConstant ? other.Constant!.Average(c => 1 / Math.Max((double)c * c, 1e-30)) : 1 / Math.Max(otherSquare, 1e-30))
                        : MeanSquare(b.Left, meanSquare) / Math.Max(otherSquare * otherSquare, 1e-30),
                    BinaryKind.Max or BinaryKind.Min => 0.5,   // each operand decides about half the outputs
                    BinaryKind.PRelu => ReferenceEquals(self, b.Left) ? 0.5 * (1 + otherSquare) : 0.5 * meanSquare[b.Left.Value],
                    >= BinaryKind.Equal => 0,   // a comparison is flat almost everywhere
                    _ => 4 * meanSquare[self.Value],   // d(x²)/dx = 2x
                };
                return gain * fanOut;
            }
            case LayerNormLayer n: return MeanSquare(n.Gamma) / Math.Max(meanSquare[n.Inputs[0]], 1e-30);
            case MatMulLayer m: return k == 0 ? m.N * meanSquare[m.Inputs[1]] : m.M * meanSquare[m.Inputs[0]] * (m.RightIsShared ? m.Batch : 1);
            case SoftmaxLayer s: return 1.0 / (4.0 * s.Length);
            case WhereLayer where: return where.Condition.IsConstant || k > 0 ? 0.5 : 0;   // the picked operand passes; the condition is flat
            case ReduceLayer r: return r.Kind switch { ReduceKind.Mean => 1.0 / ((double)r.Reduced * r.Reduced), ReduceKind.Sum => 1, _ => 1.0 / r.Reduced };   // max/min: one input in Reduced moves the output
            default: return 1;   // reshape, transpose, concat
        }
    }

    /// <summary>The operands of a binary layer that are values, in the order of <see cref="Layer.Inputs"/>.</summary>
    private static Operand[] Operands(BinaryLayer b) => new[] { b.Left, b.Right }.Where(o => !o.IsConstant).ToArray();
}
