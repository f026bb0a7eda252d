using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Faults;
using Qtaml.Moments;
using Qtaml.Physics;
using Qtaml.Tac;

namespace Qtaml.Plans;

/// <summary>One plan measured under faults: what was protected, in which encoding, and the decisions kept per trial.</summary>
/// <param name="Allocator">The rule that made the plan.</param>
/// <param name="Budget">The budget asked for, in protected bits per weight (the plan may spend less).</param>
/// <param name="Plan">The plan: protected planes per layer.</param>
/// <param name="Encoding">The encoding its image was stored in.</param>
/// <param name="Result">The share of inputs decided as expected, one value per fault trial.</param>
public sealed record PlanMeasurement(Allocator Allocator, double Budget, ProtectionPlan Plan, CodeEncoding Encoding, CampaignResult Result);

/// <summary>
/// The smallest budget at which an allocator keeps the target, with the interval the trials' confidence allows:
/// <see cref="Optimistic"/> is where the 95% interval's upper end first reaches the target, <see cref="Pessimistic"/>
/// where its lower end does. Null budgets: not reached even with every plane protected.
/// </summary>
public sealed record BudgetEstimate(Allocator Allocator, double Target, double? Budget, double? Optimistic, double? Pessimistic, PlanMeasurement? AtBudget);

/// <summary>How many times one allocator's minimum budget is another's (Uniform-MSP's over TAC's), with the interval their budgets' intervals allow.</summary>
/// <param name="Ratio">The ratio of the two budgets.</param>
/// <param name="Low">The numerator's optimistic budget over the denominator's pessimistic one (NaN where either is missing).</param>
/// <param name="High">The numerator's pessimistic budget over the denominator's optimistic one (+∞ where that is 0 or missing).</param>
public sealed record BudgetRatio(double Ratio, double Low, double High)
{
    /// <summary>The ratio of two estimates, or null where either budget is missing or the denominator's is 0.</summary>
    public static BudgetRatio? Of(BudgetEstimate numerator, BudgetEstimate denominator)
    {
        if (numerator is null) throw new ArgumentNullException(nameof(numerator));
        if (denominator is null) throw new ArgumentNullException(nameof(denominator));
        if (numerator.Budget is not double n || denominator.Budget is not double d || d == 0) return null;
        double low = numerator.Optimistic is double no && denominator.Pessimistic is double dp && dp > 0 ? no / dp : double.NaN;
        double high = numerator.Pessimistic is double np && denominator.Optimistic is double dopt ? (dopt > 0 ? np / dopt : double.PositiveInfinity) : double.PositiveInfinity;
        return new BudgetRatio(n / d, low, high);
    }
}

/// <summary>What a <see cref="PlanCampaign"/> does per measured plan.</summary>
/// <param name="Trials">Fault trials per plan (at least 2, for a confidence interval).</param>
/// <param name="Seed">The campaign seed: trial i gets the same faults' seed at every budget (common random numbers).</param>
/// <param name="MaxDegreeOfParallelism">Trials at once; −1 for one per core.</param>
/// <param name="ReadAfterRefresh">Whether the campaign's codes are also read just after a refresh (a node's window), which limits their mean correction (<see cref="QuantizedModel.CreateImage(ProtectionPlan, FlipProbabilities, bool?)"/>); null: as the class was built. A static flip probability has no such read: false.</param>
public sealed record PlanCampaignOptions(int Trials = 20, ulong Seed = 2026, int MaxDegreeOfParallelism = -1, bool? ReadAfterRefresh = null);

/// <summary>
/// A fault campaign over runtime plans: one compiled class per encoding runs the image of every (allocator, budget)
/// plan, each under seeded faults, and the smallest budget that keeps a target share of decisions is found by
/// bisection on a 1/64 bit-per-weight grid. This is the measurement behind <c>qtaml campaign</c> and the sample app.
/// </summary>
/// <remarks>
/// <para>A decision is the index of the largest score, read as the model's <see cref="CompiledVariant.Decisions"/>
/// layout says: one per input for a classifier, one per row of a final softmax over rows (a recogniser's characters),
/// as the build's forecast counts them. Expected decisions are the inputs' labels (the share kept is the accuracy) or
/// the float model's own decisions (the share kept is the agreement), input by input and, within an input, position
/// by position.</para>
/// <para>Each plan is designed in every variant's encoding and measured in the one whose predicted distortion is lower,
/// the rule a build applies, so a campaign measures what a build at that budget would ship.</para>
/// </remarks>
public sealed class PlanCampaign
{
    private readonly CompiledVariant[] _variants;
    private readonly float[][] _inputs;
    private readonly int[] _expected;
    private readonly DecisionLayout _layout;
    private readonly Dictionary<string, CampaignResult> _byPlan = new(StringComparer.Ordinal);
    private readonly Dictionary<(Allocator, double), PlanMeasurement> _byBudget = new();
    private readonly List<PlanMeasurement> _log = new();
    private readonly object _gate = new();

    /// <param name="variants">Classes of one model (same layers), typically one per encoding; the first wins ties.</param>
    /// <param name="inputs">The inputs, each of the model's input length.</param>
    /// <param name="expected">The decisions expected: for each input, one per position of the model's <see cref="CompiledVariant.Decisions"/> (one for a classifier), input by input.</param>
    /// <param name="compensatedFor">The flips the stored codes are compensated for (mean correction and the allocators' profiles).</param>
    /// <param name="faults">The faults injected in each trial.</param>
    /// <param name="options">Trials, seed and parallelism.</param>
    public PlanCampaign(IReadOnlyList<CompiledVariant> variants, IReadOnlyList<float[]> inputs, IReadOnlyList<int> expected, FlipProbabilities compensatedFor, TunnelingFaultModel faults, PlanCampaignOptions? options = null)
    {
        if (variants is null || variants.Count == 0) throw new ArgumentException("Give at least one compiled class.", nameof(variants));
        if (inputs is null || inputs.Count == 0) throw new ArgumentException("Give at least one input.", nameof(inputs));
        _variants = variants.ToArray();
        CompiledVariant first = _variants[0];
        _layout = first.Decisions;
        CheckExpected(_layout, inputs.Count, expected);
        foreach (CompiledVariant v in _variants)
            if (v.Quantized.Layers.Count != first.Quantized.Layers.Count || v.Quantized.Bits != first.Quantized.Bits || v.InputLength != first.InputLength || v.OutputLength != first.OutputLength || v.Decisions != _layout)
                throw new ArgumentException("The compiled classes must be variants of one model: the same layers, bit width, input, output and decisions.", nameof(variants));
        _inputs = inputs.ToArray();
        for (int i = 0; i < _inputs.Length; i++)
            if (_inputs[i] is null || _inputs[i].Length != first.InputLength)
                throw new ArgumentException($"Input {i} holds {_inputs[i]?.Length ?? 0} values; the model takes {first.InputLength}.", nameof(inputs));
        _expected = expected.ToArray();
        CompensatedFor = compensatedFor;
        Faults = faults ?? throw new ArgumentNullException(nameof(faults));
        Options = options ?? new PlanCampaignOptions();
        if (Options.Trials < 2) throw new ArgumentOutOfRangeException(nameof(options), Options.Trials, "A campaign needs at least 2 trials per plan for a confidence interval.");
    }

    /// <summary>The flips the stored codes are compensated for.</summary>
    public FlipProbabilities CompensatedFor { get; }

    /// <summary>The faults injected.</summary>
    public TunnelingFaultModel Faults { get; }

    /// <summary>Trials, seed, parallelism.</summary>
    public PlanCampaignOptions Options { get; }

    /// <summary>How each input's output is read as decisions (the first variant's layout).</summary>
    public DecisionLayout Decisions => _layout;

    /// <summary>The bit width: the largest budget (every plane protected).</summary>
    public int Bits => _variants[0].Quantized.Bits;

    /// <summary>Called once for each allocator and budget measured, for progress reports.</summary>
    public event Action<PlanMeasurement>? Measured;

    /// <summary>Every allocator and budget measured so far, in the order they were (a budget whose plan another had already was not run again).</summary>
    public IReadOnlyList<PlanMeasurement> Measurements
    {
        get
        {
            lock (_gate) return _log.ToArray();
        }
    }

    /// <summary>The plan a build would ship for <paramref name="allocator"/> at <paramref name="budget"/>: designed in each encoding, the lower predicted distortion kept.</summary>
    public (CompiledVariant Variant, ProtectionPlan Plan) Design(Allocator allocator, double budget)
    {
        CompiledVariant best = _variants[0];
        ProtectionPlan bestPlan = best.Quantized.Design(allocator, budget, CompensatedFor);
        for (int v = 1; v < _variants.Length; v++)
        {
            ProtectionPlan plan = _variants[v].Quantized.Design(allocator, budget, CompensatedFor);
            if (plan.PredictedDistortion < bestPlan.PredictedDistortion * (1 - 1e-9)) (best, bestPlan) = (_variants[v], plan);
        }
        return (best, bestPlan);
    }

    /// <summary>The share of decisions kept by <paramref name="allocator"/>'s plan at <paramref name="budget"/>, over the trials. Plans already measured are not measured again.</summary>
    public PlanMeasurement Measure(Allocator allocator, double budget)
    {
        lock (_gate)
            if (_byBudget.TryGetValue((allocator, budget), out PlanMeasurement? known)) return known;
        (CompiledVariant variant, ProtectionPlan plan) = Design(allocator, budget);
        string key = variant.Info.Encoding + ":" + string.Join(",", plan.ProtectedPlanes);
        CampaignResult? result;
        lock (_gate) _byPlan.TryGetValue(key, out result);
        result ??= Run(variant, plan);
        var measurement = new PlanMeasurement(allocator, budget, plan, variant.Info.Encoding, result);
        lock (_gate)
        {
            _byPlan[key] = result;
            _byBudget[(allocator, budget)] = measurement;
            _log.Add(measurement);
        }
        Measured?.Invoke(measurement);
        return measurement;
    }

    /// <summary>
    /// The smallest budget on the grid at which <paramref name="allocator"/> keeps a mean share of at least
    /// <paramref name="target"/>, and the interval from the trials' 95% confidence.
    /// </summary>
    public BudgetEstimate MinimumBudget(Allocator allocator, double target, int stepsPerBit = BudgetSearch.DefaultStepsPerBit)
    {
        if (!(target > 0 && target <= 1)) throw new ArgumentOutOfRangeException(nameof(target), target, "The target is a share of decisions in (0, 1].");
        double? budget = BudgetSearch.Minimum(b => Measure(allocator, b).Result.Mean >= target, Bits, stepsPerBit);
        double? optimistic = BudgetSearch.Minimum(b => Measure(allocator, b).Result.Upper95 >= target, Bits, stepsPerBit);
        double? pessimistic = BudgetSearch.Minimum(b => Measure(allocator, b).Result.Lower95 >= target, Bits, stepsPerBit);
        return new BudgetEstimate(allocator, target, budget, optimistic, pessimistic, budget is double b ? Measure(allocator, b) : null);
    }

    private CampaignResult Run(CompiledVariant variant, ProtectionPlan plan)
    {
        WeightImage clean = variant.Quantized.CreateImage(plan, CompensatedFor, Options.ReadAfterRefresh);
        CampaignResult shares = FaultCampaign.Run(Options.Trials, Options.Seed,
            () => (Image: clean.Clone(), Scores: new float[variant.OutputLength], Decisions: new int[_layout.Positions]),
            (workspace, trial) =>
            {
                workspace.Image.CopyFrom(clean);
                Faults.Inject(workspace.Image, plan.ProtectedPlanes, trial.Seed);
                return Share(variant, _layout, workspace.Image, _inputs, _expected, workspace.Scores, workspace.Decisions);
            },
            Options.MaxDegreeOfParallelism);
        return new CampaignResult(shares.Values, checked(_inputs.Length * _layout.Positions));
    }

    /// <summary>
    /// The share of the decisions <paramref name="model"/>, run over <paramref name="image"/>, makes on
    /// <paramref name="inputs"/> as <paramref name="expected"/> says (accuracy against labels, agreement against
    /// reference decisions): one expected decision per input and position of <see cref="CompiledVariant.Decisions"/>.
    /// </summary>
    public static double DecisionShare(CompiledVariant model, WeightImage image, IReadOnlyList<float[]> inputs, IReadOnlyList<int> expected)
    {
        if (model is null) throw new ArgumentNullException(nameof(model));
        if (inputs is null || inputs.Count == 0) throw new ArgumentException("Give at least one input.", nameof(inputs));
        DecisionLayout layout = model.Decisions;
        CheckExpected(layout, inputs.Count, expected);
        return Share(model, layout, image, inputs, expected, new float[model.OutputLength], new int[layout.Positions]);
    }

    private static void CheckExpected(DecisionLayout layout, int inputs, IReadOnlyList<int>? expected)
    {
        long count = (long)inputs * layout.Positions;
        if (expected is null || expected.Count != count)
            throw new ArgumentException(layout.Positions == 1
                ? $"Give one expected decision per input ({inputs}); {expected?.Count ?? 0} were given."
                : $"Give one expected decision per position of each input: the model makes {layout.Positions} decisions per input (one per row of its final softmax), so {inputs} inputs take {count}, input by input; {expected?.Count ?? 0} were given.", nameof(expected));
    }

    private static double Share(CompiledVariant variant, DecisionLayout layout, WeightImage image, IReadOnlyList<float[]> inputs, IReadOnlyList<int> expected, float[] scores, int[] decisions)
    {
        long kept = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            variant.Run(image, inputs[i], scores);
            layout.Decide(scores, decisions);
            for (int p = 0; p < decisions.Length; p++)
                if (decisions[p] == expected[i * decisions.Length + p]) kept++;
        }
        return (double)kept / ((long)inputs.Count * layout.Positions);
    }

    /// <summary>The index of the largest output (the first of equals); a NaN output never wins.</summary>
    public static int Decision(ReadOnlySpan<float> scores)
    {
        int best = 0;
        for (int k = 1; k < scores.Length; k++) if (scores[k] > scores[best] || float.IsNaN(scores[best])) best = k;
        return best;
    }
}
