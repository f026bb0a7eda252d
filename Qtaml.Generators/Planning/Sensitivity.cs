using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Qtaml.Faults;
using Qtaml.Generators.Calibration;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Planning;

/// <summary>
/// G_l without calibration data (DESIGN 3.5.2): the squared change of the network's outputs per unit error
/// variance in one weight of layer l, measured through the network's own Jacobian at synthetic inputs, by reverse
/// mode. For a random projection u of the outputs, E‖Jᵀu‖² = ‖J‖²_F, so one backward sweep per projection gives
/// every layer's ‖J_l‖²_F at once, and G_l = ‖J_l‖²_F / n_l averaged over inputs and projections.
///
/// The inputs are half signed (Gaussian, mean square InputMeanSquare) and half non-negative (uniform on
/// [0, √(3·InputMeanSquare)], the same mean square: pixels and spectrogram energies), so the activations, their
/// normalisations, residual paths and softmaxes are the network's own, not a product of per-layer norm guesses
/// that compounds over depth. A network that the reference evaluator cannot differentiate, or that gives no finite
/// value on such inputs, falls back to <see cref="AnalyticSensitivity"/>. Either way the result is scaled so the
/// largest G_l is 1: only the ratios matter to the plan, and they stay finite at any depth.
/// </summary>
internal static class Sensitivity
{
    /// <summary>The least a measured G_l may be, as a share of its weights-only estimate (both normalised).</summary>
    private const double FloorShare = 1e-3;

    /// <summary>Synthetic inputs: half signed, half non-negative.</summary>
    public const int SyntheticInputs = 4;

    /// <summary>Random output projections per input.</summary>
    public const int Projections = 2;

    /// <summary>The multiply-adds the estimate may cost (a forward and two backward passes per projection), a few seconds of the reference evaluator; a larger network uses fewer inputs and projections, never fewer than one of each.</summary>
    private const long MaxWork = 600_000_000;

    /// <summary>A network whose single pass costs more multiply-adds than this is estimated from its weights alone (<see cref="AnalyticSensitivity"/>).</summary>
    private const long MaxPass = 200_000_000;

    public static double[] Estimate(NetworkGraph graph, double inputMeanSquare = 1, CancellationToken cancellationToken = default) =>
        Estimate(graph, inputMeanSquare, out _, cancellationToken);

    /// <param name="measured">Whether the Jacobian was measured (false: estimated from the weights alone).</param>
    public static double[] Estimate(NetworkGraph graph, double inputMeanSquare, out bool measured, CancellationToken cancellationToken = default)
    {
        double[]? fromJacobian = Measure(graph, inputMeanSquare, cancellationToken);
        measured = fromJacobian is not null;
        double[] fromWeights = AnalyticSensitivity.Estimate(graph, inputMeanSquare);
        if (fromJacobian is null) return fromWeights;
        // A layer whose every path to the output was switched off for all the synthetic inputs (the ReLUs of a narrow
        // layer) measures 0; real inputs may switch it on, so it keeps a thousandth of its weights-only estimate.
        double[] normalised = AnalyticSensitivity.Normalised(fromJacobian.Select(g => Math.Log(g)).ToArray());
        return normalised.Select((g, l) => Math.Max(g, FloorShare * fromWeights[l])).ToArray();
    }

    /// <summary>G_l from the Jacobian at synthetic inputs (not normalised), or null when the network cannot be evaluated so.</summary>
    public static double[]? Measure(NetworkGraph graph, double inputMeanSquare, CancellationToken cancellationToken)
    {
        if (!graph.Layers.OfType<WeightLayer>().Any()) return Array.Empty<double>();
        long pass = Math.Max(1, CalibrationProfile.PassCost(graph));
        if (pass > MaxPass) return null;
        int inputs = SyntheticInputs, projections = Projections;
        while (inputs > 1 && pass * inputs * (1 + 2L * projections) > MaxWork) inputs /= 2;
        while (projections > 1 && pass * inputs * (1 + 2L * projections) > MaxWork) projections--;

        var evaluator = new ReferenceEvaluator(graph);
        // The values the outputs are judged at: a final softmax's input (it does not change the decision, and a
        // saturated softmax would hide every weight's effect), otherwise the output itself.
        int[] outputs = graph.Outputs.Select(o => o.Value > 0 && graph.Layers[o.Value - 1] is SoftmaxLayer softmax ? softmax.Inputs[0] : o.Value).Distinct().ToArray();
        int layers = evaluator.WeightLayerIndices.Length;
        var perInput = new double[inputs][];
        try
        {
            Parallel.For(0, inputs, InputParallelism.Options(cancellationToken), s =>
            {
                // Every input has its own stream: the result is the same on any core count.
                var random = new SplitMix64(0x5EED_0000UL + (ulong)s);
                bool signed = s % 2 == 0;
                double[] Synthetic(int length)
                {
                    var x = new double[length];
                    double half = Math.Sqrt(3 * inputMeanSquare);
                    for (int i = 0; i < length; i++)
                        x[i] = signed ? Math.Sqrt(inputMeanSquare) * CalibrationProfile.Gaussian(ref random) : half * (random.Next() >> 11) * (1.0 / (1UL << 53));
                    return x;
                }
                double[] first = Synthetic(graph.InputLength);
                double[][] others = new double[graph.Inputs.Length][];
                foreach (GraphInputLayer input in graph.Layers.OfType<GraphInputLayer>()) others[input.Index] = Synthetic(input.OutputLength);
                double[][] values = evaluator.Run(first, others);
                if (graph.Outputs.Any(o => values[o.Value].Any(v => !Finite(v)))) return;
                var sum = new double[layers];
                for (int p = 0; p < projections; p++)
                {
                    var seeds = outputs.Select(v => (v, Enumerable.Range(0, values[v].Length).Select(_ => CalibrationProfile.Gaussian(ref random)).ToArray())).ToArray();
                    double[]?[] gradients = evaluator.Backward(values, seeds, out _);
                    for (int k = 0; k < layers; k++)
                        if (gradients[k] is { } g) sum[k] += g.Sum(v => v * v);
                }
                perInput[s] = sum;
            });
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return null;   // an operator the reference evaluator cannot run or differentiate: the analytic estimate stands in
        }
        double[][] valid = perInput.Where(row => row is not null && row.All(Finite)).ToArray();
        if (valid.Length == 0) return null;
        int[] weightLayers = evaluator.WeightLayerIndices;
        var sensitivity = new double[layers];
        for (int k = 0; k < layers; k++)
        {
            double total = 0;
            foreach (double[] row in valid) total += row[k];   // in input order: the same on any core count
            sensitivity[k] = total / valid.Length / projections / ((WeightLayer)graph.Layers[weightLayers[k]]).Weights.Length;
        }
        return sensitivity.All(Finite) ? sensitivity : null;
    }

    private static bool Finite(double value) => !double.IsNaN(value) && !double.IsInfinity(value);
}
