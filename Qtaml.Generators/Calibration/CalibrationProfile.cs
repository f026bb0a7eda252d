using System;
using System.Linq;
using System.Threading;
using Qtaml.Faults;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Calibration;

/// <summary>
/// What unlabeled calibration inputs say about a trained network (DESIGN 3.5.2 and 3.5.5), from its float reference
/// evaluation, by reverse mode:
/// <list type="bullet">
/// <item>each input's decisions (<see cref="DecisionLayout"/>: one arg max per position, taken before a final
///   softmax, which does not change it) and, at up to <see cref="TrackedPositions"/> of its positions, the
///   <see cref="TrackedClasses"/> best classes;</item>
/// <item>for each weight layer l, the rows of its Jacobian J_l(x) for those classes, one backward sweep per class
///   and position (<see cref="ReferenceEvaluator.BackwardEach"/>), reduced at once to one Gram matrix J_l J_lᵀ per
///   position: the covariance per unit weight variance of the errors those classes' scores get from layer l,
///   exactly, where random probing of the weights could only estimate it;</item>
/// <item>G_l = ‖J_l‖²_F / n_l, the output's squared change per unit error variance in one weight (each layer's input
///   E[x²] is in it, as the data has it): the tracked rows' norms plus one random projection over the other classes
///   (E‖J_lᵀu‖² = ‖J_l‖²_F restricted to u's support).</item>
/// </list>
/// One input costs a forward pass and about two passes per backward sweep, whatever the depth. The inputs used are
/// bounded by a budget of multiply-adds (<see cref="MaxWork"/>) and of stored values: on a large network every input's
/// decisions are followed (a forward pass) but only the first inputs' gradients taken (<see cref="Swept"/>; the other
/// decisions borrow their score covariances). <see cref="Samples"/> and <see cref="Swept"/> say how many, and the
/// build says so when either is fewer than the file holds.
/// </summary>
internal sealed class CalibrationProfile
{
    /// <summary>The most calibration inputs the build evaluates (the first ones of the file).</summary>
    public const int MaxSamples = 256;

    /// <summary>The classes per decision whose scores the forecast follows: the clean decision and its closest rivals (a decision flips to a near rival first).</summary>
    public const int TrackedClasses = 4;

    /// <summary>
    /// The most positions per input whose decisions the forecast follows, when an input makes more (a recogniser's 40
    /// characters): drawn at random, so the share they keep estimates every position's without bias, at a few
    /// backward sweeps each rather than 160 per input. Fewer where the budget could not afford them on
    /// <see cref="MinSamples"/> inputs (<see cref="Positions"/>).
    /// </summary>
    public const int TrackedPositions = 4;

    /// <summary>
    /// The multiply-adds calibration may spend in all, about 30 s of the reference evaluator on 2 cores (it runs
    /// 8-12·10⁹ a second there on real networks, measured 2026-12-05): the decisions (a forward pass) of 256 inputs of
    /// a 750M-multiply-add network, PP-OCRv4's recogniser, and the gradients of <see cref="MinSamples"/> of them. A
    /// network too large for it follows fewer inputs' decisions, never fewer than <see cref="MinSamples"/>.
    /// </summary>
    internal const long MaxWork = 260_000_000_000;

    /// <summary>
    /// The most of <see cref="MaxWork"/> the backward sweeps may take (two passes each, <see cref="Sweeps"/> per input),
    /// about 12 s on 2 cores: the inputs whose gradients are taken are the first ones, as many as it affords, never
    /// fewer than <see cref="MinSamples"/>.
    /// </summary>
    internal const long MaxGradientWork = 100_000_000_000;

    /// <summary>The most doubles the stored Gram matrices may take.</summary>
    private const long MaxStoredValues = 8_000_000;

    internal const int MinSamples = 8;

    /// <summary>A pass's cost in multiply-adds: every weight times its reuse, every attention product, and one per other output value.</summary>
    internal static long PassCost(NetworkGraph graph) => graph.Layers.Sum(layer => layer switch
    {
        EmbeddingLayer e => (long)e.OutputLength,
        WeightLayer w => (long)w.Weights.Length * w.Reuse,
        MatMulLayer m => (long)m.Batch * m.M * m.K * m.N,
        _ => (long)layer.OutputLength,
    });

    private CalibrationProfile(ReferenceEvaluator evaluator, NetworkGraph graph, double[][] inputs, DecisionLayout decision, int rows, int[][] decisions, double[] sensitivity, AgreementModel? agreement, int offered, int swept)
    {
        Swept = swept;
        RowsPerInput = rows;
        Evaluator = evaluator;
        Graph = graph;
        Inputs = inputs;
        Decision = decision;
        Decisions = decisions;
        Sensitivity = sensitivity;
        Agreement = agreement;
        Offered = offered;
    }

    /// <summary>The network profiled.</summary>
    public NetworkGraph Graph { get; }

    /// <summary>The reference evaluator of <see cref="Graph"/> the profile ran (its caches filled; safe to share between threads).</summary>
    public ReferenceEvaluator Evaluator { get; }

    /// <summary>The calibration inputs used (each the first graph input of one sample).</summary>
    public double[][] Inputs { get; }

    /// <summary>Where decisions are read from.</summary>
    public DecisionLayout Decision { get; }

    /// <summary>The positions of each input the forecast follows (<see cref="Positions"/>; 0 when a decision is one value).</summary>
    public int RowsPerInput { get; }

    /// <summary>Each input's decisions by the float network, one per position of <see cref="Decision"/>.</summary>
    public int[][] Decisions { get; }

    /// <summary>The number of calibration inputs used: each one's decisions and margins are in the forecast.</summary>
    public int Samples => Inputs.Length;

    /// <summary>
    /// The first inputs whose gradients were taken (<see cref="Sensitivity"/> and the forecast's score covariances rest
    /// on them): all <see cref="Samples"/> but on a network too large to sweep every input within
    /// <see cref="MaxGradientWork"/>.
    /// </summary>
    public int Swept { get; }

    /// <summary>The inputs the calibration file offered (up to <see cref="MaxSamples"/>): more than <see cref="Samples"/> when the budget stopped short.</summary>
    public int Offered { get; }

    /// <summary>Per weight layer, G_l measured through the Jacobian.</summary>
    public double[] Sensitivity { get; }

    /// <summary>The decision-survival model, or null when the output is not a choice among classes (one value per sample).</summary>
    public AgreementModel? Agreement { get; }

    /// <summary>The classes tracked per decision (none when a decision is one value: nothing to choose among).</summary>
    internal static int Tracked(DecisionLayout decision) => decision.Classes >= 2 ? Math.Min(decision.Classes, TrackedClasses) : 0;

    /// <summary>
    /// The positions tracked per input: up to <see cref="TrackedPositions"/>, as many as leave <see cref="MinSamples"/>
    /// inputs within <paramref name="work"/>, at least one. Each position's sweeps also hold their gradients at once,
    /// so the bound keeps a deep recogniser's profile within the time and memory of one decision per input (4 rows
    /// of PP-OCRv4's: 29 s and a 4.7 GiB peak on 8 inputs; 1 row: what the budget allows).
    /// </summary>
    internal static int Positions(NetworkGraph graph, DecisionLayout decision, long work = MaxGradientWork)
    {
        int tracked = Tracked(decision);
        if (tracked == 0) return 0;
        long pass = Math.Max(1, PassCost(graph));
        for (int rows = Math.Min(decision.Positions, TrackedPositions); rows > 1; rows--)
            if (MinSamples * pass * (1 + 2L * Sweeps(decision, rows)) <= work) return rows;
        return 1;
    }

    /// <summary>The backward sweeps per input following <paramref name="rows"/> positions: one per tracked class of each, and one random projection over the scores not tracked.</summary>
    internal static int Sweeps(DecisionLayout decision, int rows)
    {
        int tracked = Tracked(decision) * rows;
        return tracked + (decision.Length > tracked ? 1 : 0);
    }

    /// <summary>What one input costs in multiply-adds following <paramref name="rows"/> positions: a forward pass, and about two passes per backward sweep.</summary>
    internal static long CostPerInput(NetworkGraph graph, DecisionLayout decision, int rows) => Math.Max(1, PassCost(graph)) * (1 + 2L * Sweeps(decision, rows));

    /// <summary>
    /// The inputs a network can be calibrated on within the budgets: how many of the offered inputs' decisions it follows
    /// (a forward pass each) and, of those, on how many first ones it takes the gradients (<see cref="Sweeps"/> backward
    /// sweeps more). All offered on a small network; on a large one the gradients of at least <see cref="MinSamples"/>
    /// come first, then every input's decisions the rest of <paramref name="work"/> affords, then more gradients within
    /// <see cref="MaxGradientWork"/>. A decision whose input was not swept borrows the score covariances of a swept
    /// input's (<see cref="Measure"/>): the margins, which vary most from input to input, are its own.
    /// </summary>
    internal static (int Decided, int Swept) AffordableSamples(NetworkGraph graph, int offered, int weightLayers, DecisionLayout decision, int rows, long work = MaxWork)
    {
        int tracked = Tracked(decision);
        offered = Math.Min(offered, MaxSamples);
        int least = Math.Min(MinSamples, offered);
        long pass = Math.Max(1, PassCost(graph)), perInput = CostPerInput(graph, decision, rows), sweeps = Math.Max(1, perInput - pass);
        long gradientWork = Math.Min(MaxGradientWork, work);
        long stored = (long)weightLayers * tracked * tracked * rows;
        int storable = stored > 0 ? (int)Math.Min(offered, Math.Max(1, MaxStoredValues / stored)) : offered;
        if (tracked == 0)
        {
            // One output value: no margins to follow, so an input is worth its gradients or nothing.
            int n = (int)Math.Min(storable, Math.Max(least, gradientWork / perInput));
            return (n, n);
        }
        int decided = (int)Math.Min(offered, least + Math.Max(0, work - least * perInput) / pass);
        long left = Math.Min(gradientWork, Math.Max(0, work - decided * pass));
        int swept = (int)Math.Min(Math.Min(decided, storable), Math.Max(least, left / sweeps));
        return (decided, swept);
    }

    /// <summary>Profiles a network on calibration rows (each every graph input of one sample, in port order), spending at most <paramref name="work"/> multiply-adds.</summary>
    public static CalibrationProfile Measure(NetworkGraph graph, NpyArray inputs, CancellationToken cancellationToken, ulong seed = 0x5EED_CA11, long work = MaxWork)
    {
        var evaluator = new ReferenceEvaluator(graph);
        int layers = evaluator.WeightLayerIndices.Length;
        DecisionLayout layout = DecisionLayout.Of(graph);
        int width = layout.Length, tracked = Tracked(layout), positions = Positions(graph, layout, Math.Min(MaxGradientWork, work));
        bool rest = width > tracked * positions;   // a random projection over the scores not tracked (all of them for a single output)
        int offered = Math.Min(inputs.Rows, MaxSamples);
        (int samples, int swept) = AffordableSamples(graph, offered, layers, layout, positions, work);
        double[][] rows = Enumerable.Range(0, samples).Select(inputs.Row).ToArray();

        // One entry per tracked decision: input s's tracked positions are entries s·positions to (s + 1)·positions − 1.
        var clean = new double[samples * positions][];   // [entry][tracked class]: the tracked classes' clean scores, best first
        var decisions = new int[samples][];
        var grams = new double[samples * positions][][];  // [entry][layer][i·tracked + j]
        var squares = new double[swept][];    // [swept input][layer]: ‖J_l‖²_F estimated
        using var buffers = new DoubleBuffers();
        System.Threading.Tasks.Parallel.For(0, samples, InputParallelism.Options(cancellationToken), s =>
        {
            (double[] first, double[][]? others) = evaluator.SplitRow(rows[s]);
            double[][] values = evaluator.Run(first, others, buffers);
            double[] decision = values[layout.Value];
            decisions[s] = Enumerable.Range(0, layout.Positions).Select(q => layout.ArgMax(decision, q)).ToArray();
            int[] chosen = ChosenPositions(layout, positions, seed, s);
            // Each chosen position's tracked scores: its decision first, then its rivals by score (ties by index, as
            // the arg max breaks them), as indices into the whole value.
            var best = new int[positions * tracked];
            for (int p = 0; p < positions; p++)
            {
                int start = chosen[p] * layout.Classes;
                int[] order = Enumerable.Range(start, layout.Classes).OrderByDescending(j => decision[j]).ThenBy(j => j).Take(tracked).ToArray();
                Array.Copy(order, 0, best, p * tracked, tracked);
                clean[s * positions + p] = order.Select(j => decision[j]).ToArray();
            }
            if (s >= swept)
            {
                buffers.ReturnAll(values);   // decisions and margins only
                return;
            }
            var seeds = new double[best.Length + (rest ? 1 : 0)][];
            for (int i = 0; i < best.Length; i++)
            {
                seeds[i] = new double[width];
                seeds[i][best[i]] = 1;
            }
            if (rest)
            {
                // Every input has its own stream: the result is the same on any core count.
                var random = new SplitMix64(SplitMix64.Derive(seed, (ulong)s));
                var projection = new double[width];
                for (int j = 0; j < width; j++) projection[j] = Gaussian(ref random);
                foreach (int j in best) projection[j] = 0;
                seeds[best.Length] = projection;
            }
            var gram = new double[positions][][];
            for (int p = 0; p < positions; p++) gram[p] = new double[layers][];
            var square = new double[layers];
            evaluator.BackwardEach(values, layout.Value, seeds, (k, dws) =>
            {
                double sum = rest ? DoubleKernels.Dot(dws[best.Length], 0, dws[best.Length], 0, dws[best.Length].Length) : 0;
                for (int p = 0; p < positions; p++)
                {
                    int first = p * tracked;
                    var g = new double[tracked * tracked];
                    for (int i = 0; i < tracked; i++)
                        for (int j = 0; j <= i; j++)
                            g[i * tracked + j] = g[j * tracked + i] = DoubleKernels.Dot(dws[first + i], 0, dws[first + j], 0, dws[first + i].Length);
                    for (int i = 0; i < tracked; i++) sum += g[i * tracked + i];
                    gram[p][k] = g;
                }
                square[k] = sum;
            }, buffers);
            for (int p = 0; p < positions; p++)
            {
                for (int k = 0; k < layers; k++) gram[p][k] ??= new double[tracked * tracked];   // a layer the decision does not depend on
                grams[s * positions + p] = gram[p];
            }
            squares[s] = square;
            buffers.ReturnAll(values);
        });
        cancellationToken.ThrowIfCancellationRequested();

        int[] weightLayers = evaluator.WeightLayerIndices;
        var sensitivity = new double[layers];
        for (int k = 0; k < layers; k++)
        {
            double total = 0;
            for (int s = 0; s < swept; s++) total += squares[s][k];   // in input order: the same on any core count
            sensitivity[k] = total / swept / ((WeightLayer)graph.Layers[weightLayers[k]]).Weights.Length;
        }
        // A decision whose input was not swept borrows the covariances of the decision in the same place of a swept
        // input, in turn: the share of decisions that survive a plan's errors is driven by each decision's own margin
        // (its scores are its own); how its scores' errors spread is taken as typical of the network.
        for (int s = swept; s < samples; s++)
            for (int p = 0; p < positions; p++) grams[s * positions + p] = grams[s % swept * positions + p];
        AgreementModel? agreement = tracked >= 2 ? new AgreementModel(clean, grams, positions, seed ^ 0xA9EE) : null;
        return new CalibrationProfile(evaluator, graph, rows, layout, positions, decisions, sensitivity, agreement, offered, swept);
    }

    /// <summary>
    /// The positions input <paramref name="input"/>'s forecast follows: all of them, in order, when there are no
    /// more than <paramref name="count"/>; else <paramref name="count"/> distinct ones drawn uniformly from the
    /// input's own stream (the same on any core count).
    /// </summary>
    internal static int[] ChosenPositions(DecisionLayout layout, int count, ulong seed, int input)
    {
        int[] all = Enumerable.Range(0, layout.Positions).ToArray();
        if (layout.Positions <= count) return all;
        var random = new SplitMix64(SplitMix64.Derive(seed ^ 0x9051_7105, (ulong)input));
        for (int i = 0; i < count; i++)
        {
            // A partial Fisher–Yates shuffle: the first count entries become a uniform draw without replacement.
            int j = i + (int)(random.Next() % (ulong)(all.Length - i));
            (all[i], all[j]) = (all[j], all[i]);
        }
        return all.Take(count).ToArray();
    }

    /// <summary>A standard normal deviate (Box–Muller).</summary>
    internal static double Gaussian(ref SplitMix64 random)
    {
        double u1 = (random.Next() >> 11) * (1.0 / (1UL << 53)), u2 = (random.Next() >> 11) * (1.0 / (1UL << 53));
        return Math.Sqrt(-2 * Math.Log(1 - u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
