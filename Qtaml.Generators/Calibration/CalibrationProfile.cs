using System;
using System.Linq;
using System.Threading;
using Qtaml.Faults;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Calibration;

/// <summary>
/// What unlabeled calibration inputs say about a trained network (DESIGN 3.5.2 and 3.5.5), from its float reference
/// evaluation:
/// <list type="bullet">
/// <item>G_l, the output's squared change per unit error variance in one weight of layer l, from the Jacobian by
///   random probing: every weight of the layer moved by independent Gaussian noise of deviation σ_l, the squared
///   change of the decision vector averaged over probes and inputs, divided by n_l·σ_l² (each layer's input E[x²] is in it, as the data has it, not carried forward from a guess);</item>
/// <item>each input's decision (the arg max of the output, taken before a final softmax, which does not change it)
///   and the probes' changes of the decision vector, which <see cref="AgreementModel"/> turns into the share of
///   decisions that survive any plan's faults.</item>
/// </list>
/// Probing is a finite difference at σ_l = <see cref="ProbeScale"/> times the layer's root-mean-square weight: small
/// enough to read the local Jacobian, large enough to see past the float rounding of the weights themselves.
/// </summary>
internal sealed class CalibrationProfile
{
    /// <summary>The most calibration inputs the build evaluates (the first ones of the file).</summary>
    public const int MaxSamples = 256;

    /// <summary>Random probes per weight layer and input: the rank of each layer's estimated output covariance.</summary>
    public const int ProbesPerLayer = 6;

    /// <summary>The probe's deviation as a share of the layer's root-mean-square weight.</summary>
    public const double ProbeScale = 0.05;

    /// <summary>The most doubles the stored probe responses, or the forecast's draws, may take.</summary>
    private const long MaxResponseValues = 4_000_000;

    /// <summary>The multiply-adds the probes may cost in all (layers × probes × inputs × one pass), about 10 s of the reference evaluator on 2 cores; a network too large for it is probed on fewer inputs, never fewer than <see cref="MinSamples"/>.</summary>
    private const long MaxProbeWork = 10_000_000_000;

    private const int MinSamples = 8;

    /// <summary>A pass's cost in multiply-adds: every weight times its reuse, every attention product, and one per other output value.</summary>
    internal static long PassCost(NetworkGraph graph) => graph.Layers.Sum(layer => layer switch
    {
        EmbeddingLayer e => (long)e.OutputLength,
        WeightLayer w => (long)w.Weights.Length * w.Reuse,
        MatMulLayer m => (long)m.Batch * m.M * m.K * m.N,
        _ => (long)layer.OutputLength,
    });

    private CalibrationProfile(ReferenceEvaluator evaluator, NetworkGraph graph, double[][] inputs, int decisionValue, int[] decisions, double[] sensitivity, AgreementModel? agreement)
    {
        Evaluator = evaluator;
        Graph = graph;
        Inputs = inputs;
        DecisionValue = decisionValue;
        Decisions = decisions;
        Sensitivity = sensitivity;
        Agreement = agreement;
    }

    /// <summary>The network profiled.</summary>
    public NetworkGraph Graph { get; }

    /// <summary>The reference evaluator of <see cref="Graph"/> the profile ran (its caches filled; safe to share between threads).</summary>
    public ReferenceEvaluator Evaluator { get; }

    /// <summary>The calibration inputs used (each the first graph input of one sample).</summary>
    public double[][] Inputs { get; }

    /// <summary>The value decisions are read from (see <see cref="DecisionValueOf"/>).</summary>
    public int DecisionValue { get; }

    /// <summary>Each input's decision by the float network: the arg max of its decision value.</summary>
    public int[] Decisions { get; }

    /// <summary>The number of calibration inputs used.</summary>
    public int Samples => Inputs.Length;

    /// <summary>Per weight layer, G_l measured through the Jacobian.</summary>
    public double[] Sensitivity { get; }

    /// <summary>The decision-survival model, or null when the output is not a choice among classes (one value per sample).</summary>
    public AgreementModel? Agreement { get; }

    /// <summary>Profiles a network on calibration rows (each the first graph input of one sample).</summary>
    public static CalibrationProfile Measure(NetworkGraph graph, NpyArray inputs, CancellationToken cancellationToken, ulong seed = 0x5EED_CA11)
    {
        var evaluator = new ReferenceEvaluator(graph);
        int[] weightLayers = evaluator.WeightLayerIndices;
        int decisionValue = DecisionValueOf(graph);
        int width = Shape.Length(graph.ValueShape(decisionValue));
        int probes = ProbesPerLayer;
        // Fewer inputs for bigger networks: what is stored per input (probe responses, the forecast's draws) and the
        // multiply-adds the probes cost are bounded, so a large model calibrates in bounded memory and time.
        int samples = Math.Min(inputs.Rows, MaxSamples);
        long stored = Math.Max((long)weightLayers.Length * probes * width, (long)AgreementModel.DrawsPerInput * weightLayers.Length * probes);
        if (stored > 0) samples = (int)Math.Max(1, Math.Min(samples, MaxResponseValues / stored));
        long work = PassCost(graph) * weightLayers.Length * probes;
        if (work > 0) samples = (int)Math.Min(samples, Math.Max(MinSamples, MaxProbeWork / work));

        var clean = new double[samples][][];
        double[][] rows = Enumerable.Range(0, samples).Select(inputs.Row).ToArray();
        for (int s = 0; s < samples; s++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            clean[s] = evaluator.Run(rows[s]);
        }

        // responses[k][p][s]: the change of the decision vector of input s under probe p of weight layer k.
        var responses = new double[weightLayers.Length][][][];
        var sensitivity = new double[weightLayers.Length];
        var random = new SplitMix64(seed);
        var weights = new double[weightLayers.Length][];
        for (int k = 0; k < weightLayers.Length; k++)
        {
            var layer = (WeightLayer)graph.Layers[weightLayers[k]];
            double rms = Math.Sqrt(layer.Weights.Average(w => (double)w * w));
            double sigma = ProbeScale * (rms > 0 ? rms : 1);
            responses[k] = new double[probes][][];
            double squaredChange = 0;
            for (int p = 0; p < probes; p++)
            {
                var probe = new double[layer.Weights.Length];
                for (int i = 0; i < probe.Length; i++) probe[i] = layer.Weights[i] + sigma * Gaussian(ref random);
                weights[k] = probe;
                var changes = new double[samples][];
                // The inputs are independent: spread over the cores.
                System.Threading.Tasks.Parallel.For(0, samples, new System.Threading.Tasks.ParallelOptions { CancellationToken = cancellationToken }, s =>
                {
                    double[][] values = (double[][])clean[s].Clone();
                    evaluator.RunFrom(values, weightLayers[k], weights);
                    double[] before = clean[s][decisionValue], after = values[decisionValue];
                    // The change for unit variance per weight: the response scales with σ, and the forecast scales it by the plan's deviation.
                    var change = new double[width];
                    for (int j = 0; j < width; j++) change[j] = (after[j] - before[j]) / sigma;
                    changes[s] = change;
                });
                responses[k][p] = changes;
                foreach (double[] change in changes) squaredChange += change.Sum(c => c * c);   // summed in input order: the same on any core count
            }
            weights[k] = null!;
            sensitivity[k] = squaredChange / probes / samples / layer.Weights.Length;
        }

        int[] decisions = clean.Select(values => AgreementModel.ArgMax(values[decisionValue])).ToArray();
        AgreementModel? agreement = width >= 2
            ? new AgreementModel(clean.Select(values => values[decisionValue]).ToArray(), decisions, responses, seed ^ 0xA9EE)
            : null;
        return new CalibrationProfile(evaluator, graph, rows, decisionValue, decisions, sensitivity, agreement);
    }

    /// <summary>The value decisions are read from: the first output, or the input of a softmax that produces it.</summary>
    public static int DecisionValueOf(NetworkGraph graph)
    {
        int output = graph.OutputValue;
        return output > 0 && graph.Layers[output - 1] is SoftmaxLayer softmax ? softmax.Inputs[0] : output;
    }

    /// <summary>A standard normal deviate (Box–Muller).</summary>
    internal static double Gaussian(ref SplitMix64 random)
    {
        double u1 = (random.Next() >> 11) * (1.0 / (1UL << 53)), u2 = (random.Next() >> 11) * (1.0 / (1UL << 53));
        return Math.Sqrt(-2 * Math.Log(1 - u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
