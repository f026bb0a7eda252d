using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Qtaml.Faults;
using Qtaml.Generators.Network;
using Qtaml.Generators.Planning;
using Qtaml.Moments;
using Qtaml.Tac;

namespace Qtaml.Generators.Calibration;

/// <summary>
/// A plan's faults simulated through the float reference network: the codes the build would store, their unprotected
/// bits flipped at random with the worst read's probabilities, decoded and dequantized as the kernels do, and the
/// calibration inputs run on those weights. The share of decisions that survive is what the Gaussian
/// <see cref="AgreementModel"/> predicts without the network's nonlinearity and the flips' heavy tails; one such
/// simulation fits the model's one free scale (<see cref="BudgetForecast"/>).
/// </summary>
internal static class FaultSimulation
{
    /// <summary>
    /// Fault trials per simulation (each runs the simulated inputs): as many as the budget allows beside the inputs,
    /// 8 to 32. Trials are what a simulation's error is mostly made of: every input of a trial reads the same faulted
    /// weights, and on a deep network one flip in a sensitive layer moves them all (ppocr-cls at 1 bit/weight: a
    /// trial's share of decisions kept has a standard deviation of ~23 points), so a few trials over many inputs
    /// measure little; many trials over fewer inputs measure the mean.
    /// </summary>
    public static int Trials(CalibrationProfile profile) => (int)Math.Max(MinTrials, Math.Min(MaxTrials, Runs(profile) / Math.Max(1, Inputs(profile))));

    private const int MinTrials = 8, MaxTrials = 32;

    /// <summary>The forward passes the budget affords.</summary>
    private static long Runs(CalibrationProfile profile) => MaxWork / Math.Max(1, CalibrationProfile.PassCost(profile.Graph));

    /// <summary>The multiply-adds a simulation may spend (trials × inputs × one pass), a few seconds: forward passes, whose element-wise rules run slower per multiply-add than the calibration's blocked backward sweeps.</summary>
    private const long MaxWork = 20_000_000_000;

    /// <summary>
    /// The calibration inputs a simulation runs, the first ones: up to 128 (beside 32 trials, the model's fit is
    /// then as sure as its decisions' spread allows; its predictions use every input), or as many as the budget
    /// allows beside <see cref="MaxTrials"/> trials, at least 16.
    /// </summary>
    public static int Inputs(CalibrationProfile profile) =>
        (int)Math.Min(Math.Min(profile.Samples, MaxInputs), Math.Max(Math.Min(16, profile.Samples), Runs(profile) / MaxTrials));

    private const int MaxInputs = 128;

    /// <summary>The share of the first <see cref="Inputs"/> calibration inputs' decisions that survive the plan's faults, over <see cref="Trials"/> seeded trials.</summary>
    public static double Agreement(CalibrationProfile profile, PlanDesigner designer, PlanDesign design, ulong seed, CancellationToken cancellationToken)
    {
        ReferenceEvaluator evaluator = profile.Evaluator;
        int inputs = Inputs(profile), trials = Trials(profile);
        using var buffers = new DoubleBuffers();
        int kept = 0;
        for (int trial = 0; trial < trials; trial++)
        {
            var random = new SplitMix64(SplitMix64.Derive(seed, (ulong)trial));
            double[]?[] weights = Enumerable.Range(0, designer.Layers.Length).Select(l => FaultedWeights(designer, design, l, ref random)).ToArray();
            var agrees = new int[inputs];
            Parallel.For(0, inputs, InputParallelism.Options(cancellationToken), s =>
            {
                var values = new double[profile.Graph.Layers.Length + 1][];
                (values[0], double[][]? others) = evaluator.SplitRow(profile.Inputs[s]);
                evaluator.RunFrom(values, 0, weights, others, buffers);
                agrees[s] = AgreementModel.ArgMax(values[profile.DecisionValue]) == profile.Decisions[s] ? 1 : 0;
                buffers.ReturnAll(values);
            });
            kept += agrees.Sum();
        }
        return (double)kept / (trials * Math.Max(inputs, 1));
    }

    /// <summary>One draw of layer <paramref name="layer"/>'s weights as read back under the plan, in the weights' row-major order.</summary>
    private static double[] FaultedWeights(PlanDesigner designer, PlanDesign design, int layer, ref SplitMix64 random)
    {
        int bits = designer.Bits, planes = design.Protection.ProtectedPlanes[layer];
        int mask = StoredCode.TopPlanesMask(bits, planes);
        CorrectedLayer corrected = designer.Corrected(design.Encoding, layer, planes);
        float[] scales = designer.ChannelScales[layer];
        int perChannel = corrected.StoredCodes.Count / scales.Length;
        double p10 = designer.WorstRead.P10, p01 = designer.WorstRead.P01;
        var weights = new double[corrected.StoredCodes.Count];
        for (int i = 0; i < weights.Length; i++)
        {
            int pattern = CodeEncodings.ToPattern(corrected.StoredCodes[i], bits, design.Encoding);
            for (int k = 0; k < bits; k++)
            {
                if ((mask >> k & 1) != 0) continue;
                double u = (random.Next() >> 11) * (1.0 / (1UL << 53));
                if (u < ((pattern >> k & 1) != 0 ? p10 : p01)) pattern ^= 1 << k;
            }
            weights[i] = corrected.Dequantize(CodeEncodings.FromPattern(pattern, bits, design.Encoding), scales[i / perChannel]);
        }
        return weights;
    }
}
