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
    /// The fault trials a simulation runs at least (each runs the simulated inputs): as many as the budget allows
    /// beside the inputs, 8 to 32. Trials are what a simulation's error is mostly made of: every input of a trial
    /// reads the same faulted weights, and on a deep network one flip in a sensitive layer moves them all (ppocr-cls at
    /// 1 bit/weight: a trial's share of decisions kept has a standard deviation of ~23 points), so a few trials over
    /// many inputs measure little; many trials over fewer inputs measure the mean.
    /// </summary>
    public static int Trials(CalibrationProfile profile) => (int)Math.Max(MinTrials, Math.Min(MaxTrials, Runs(profile, MaxWork) / Math.Max(1, Inputs(profile))));

    /// <summary>
    /// The fault trials a simulation may run where the first <see cref="Trials"/> leave its share unsure: batches of 8
    /// more while the 95% half-width over trials is wider than <see cref="SureHalfWidth"/>, up to 512 trials or
    /// <see cref="MaxExtendedWork"/> multiply-adds in all. Where a trial either keeps its decisions or collapses
    /// (oww-embedding at 1 bit/weight: trials' shares spread 23.5 points), 32 trials leave ±8 points, and the
    /// forecast fitted to them inherits that.
    /// </summary>
    public static int MostTrials(CalibrationProfile profile) => (int)Math.Max(Trials(profile), Math.Min(MaxExtendedTrials, Runs(profile, MaxExtendedWork) / Math.Max(1, Inputs(profile))));

    private const int MinTrials = 8, MaxTrials = 32, MaxExtendedTrials = 512, Batch = 8;

    /// <summary>The 95% half-width of the simulated share within which a simulation stops adding trials: 2 points.</summary>
    public const double SureHalfWidth = 0.02;

    /// <summary>The forward passes a budget of <paramref name="work"/> multiply-adds affords.</summary>
    private static long Runs(CalibrationProfile profile, long work) => work / Math.Max(1, CalibrationProfile.PassCost(profile.Graph));

    /// <summary>The multiply-adds an unsure simulation may spend in all, four times the first trials' budget (a further 10-30 s of a build on a deep network, only where its trials disagree).</summary>
    private const long MaxExtendedWork = 4 * MaxWork;

    /// <summary>The multiply-adds a simulation may spend (trials × inputs × one pass), a few seconds: forward passes, whose element-wise rules run slower per multiply-add than the calibration's blocked backward sweeps.</summary>
    private const long MaxWork = 20_000_000_000;

    /// <summary>
    /// The calibration inputs a simulation runs, the first ones: up to 128 (beside 32 trials, the model's fit is
    /// then as sure as its decisions' spread allows; its predictions use every input), or as many as the budget
    /// allows beside <see cref="MaxTrials"/> trials, at least 16.
    /// </summary>
    public static int Inputs(CalibrationProfile profile) =>
        (int)Math.Min(Math.Min(profile.Samples, MaxInputs), Math.Max(Math.Min(16, profile.Samples), Runs(profile, MaxWork) / MaxTrials));

    private const int MaxInputs = 128;

    /// <summary>
    /// The share of the first <see cref="Inputs"/> calibration inputs' decisions (every position's) that survive the
    /// plan's faults, over <see cref="Trials"/> seeded trials or more (<see cref="MostTrials"/>) until the share is
    /// sure within <see cref="SureHalfWidth"/>. Trial t's faults are drawn from its own stream, so a longer simulation
    /// extends a shorter one.
    /// </summary>
    public static SimulatedAgreement Agreement(CalibrationProfile profile, PlanDesigner designer, PlanDesign design, ulong seed, CancellationToken cancellationToken)
    {
        ReferenceEvaluator evaluator = profile.Evaluator;
        int inputs = Inputs(profile), first = Trials(profile), most = MostTrials(profile);
        DecisionLayout layout = profile.Decision;
        long perTrial = (long)Math.Max(inputs, 1) * layout.Positions;   // the decisions a trial judges
        using var buffers = new DoubleBuffers();
        long kept = 0;
        var shares = new System.Collections.Generic.List<double>();
        for (int trial = 0; trial < most; trial++)
        {
            if (trial >= first && (trial - first) % Batch == 0 && HalfWidth(shares) <= SureHalfWidth) break;
            var random = new SplitMix64(SplitMix64.Derive(seed, (ulong)trial));
            double[]?[] weights = Enumerable.Range(0, designer.Layers.Length).Select(l => FaultedWeights(designer, design, l, ref random)).ToArray();
            var agrees = new int[inputs];
            Parallel.For(0, inputs, InputParallelism.Options(cancellationToken), s =>
            {
                var values = new double[profile.Graph.Layers.Length + 1][];
                (values[0], double[][]? others) = evaluator.SplitRow(profile.Inputs[s]);
                evaluator.RunFrom(values, 0, weights, others, buffers);
                for (int q = 0; q < layout.Positions; q++)
                    if (layout.ArgMax(values[layout.Value], q) == profile.Decisions[s][q]) agrees[s]++;
                buffers.ReturnAll(values);
            });
            long trialKept = agrees.Sum();
            kept += trialKept;
            shares.Add((double)trialKept / perTrial);
        }
        return new SimulatedAgreement((double)kept / (shares.Count * perTrial), shares.Count, HalfWidth(shares));
    }

    /// <summary>The 95% half-width of the mean of trial shares (normal quantile: the check runs from 8 trials up, where Student's t is 2.36 and the stop a little eager).</summary>
    internal static double HalfWidth(System.Collections.Generic.IReadOnlyList<double> shares)
    {
        int n = shares.Count;
        if (n < 2) return double.PositiveInfinity;
        double mean = shares.Average(), sum = 0;
        foreach (double share in shares) sum += (share - mean) * (share - mean);
        return 1.96 * Math.Sqrt(sum / (n - 1) / n);
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

/// <summary>What a fault simulation measured: the share of decisions kept over all its trials, the trials it ran, and the 95% half-width of that share over trials.</summary>
internal readonly record struct SimulatedAgreement(double Share, int Trials, double HalfWidth);
