using System.CommandLine;
using System.Globalization;
using Qtaml.Faults;
using Qtaml.Physics;
using Qtaml.Plans;
using Qtaml.Tac;
using Qtaml.Tool.Build;
using Qtaml.Tool.Inputs;
using Spectre.Console;

namespace Qtaml.Tool.Cli;

/// <summary>
/// <c>qtaml campaign</c>: for each allocator, the smallest ECC budget that keeps the target share of decisions
/// under the faults asked for, by bisection to 1/64 bit per weight over fault trials of the compiled model (one class
/// per encoding, every plan's image built at run time); then each allocator at a few fixed budgets. Writes a table,
/// a CSV of every measured plan and an SVG chart.
/// </summary>
internal static class CampaignCommand
{
    public static readonly Allocator[] Allocators = { Allocator.Tac, Allocator.UniformMsp, Allocator.MagnitudeBased };

    public static Command Create(IAnsiConsole console)
    {
        var common = new CommonOptions();
        var inputs = new Option<string>("--inputs") { Description = "The inputs to decide (.npy, shape [N, ...input]).", Required = true };
        var labels = new Option<string?>("--labels") { Description = "Their class indices (.npy, shape [N], or [N, rows] for a model that decides per row of a final softmax): the target is then a share of the float model's accuracy; without labels, of agreement with the float model's decisions." };
        var target = new Option<double>("--target") { Description = "The share to keep, in (0, 1].", DefaultValueFactory = _ => 0.95 };
        var trials = new Option<int>("--trials") { Description = "Fault trials per measured plan.", DefaultValueFactory = _ => 20 };
        var maxInputs = new Option<int>("--max-inputs") { Description = "Use at most this many inputs (the first).", DefaultValueFactory = _ => 1000 };
        var seed = new Option<ulong>("--seed") { Description = "The campaign seed: the same seed gives the same faults and results on any machine and core count.", DefaultValueFactory = _ => 2026UL };
        var at = new Option<string>("--at") { Description = "Budgets (bits/weight, comma-separated) at which to measure every allocator.", DefaultValueFactory = _ => "0.1,0.25,0.5" };
        var output = new Option<string>("--out") { Description = "The folder for campaign.csv and campaign.svg.", DefaultValueFactory = _ => "qtaml-campaign" };
        var threads = new Option<int>("--threads") { Description = "Trials run at once; 0 for one per core.", DefaultValueFactory = _ => 0 };
        var command = new Command("campaign", "Find the minimum ECC budget each allocator needs to keep a target share of decisions under faults, by fault campaigns over the generated code.");
        common.AddTo(command, faultsRequired: true);
        foreach (Option option in new Option[] { inputs, labels, target, trials, maxInputs, seed, at, output, threads }) command.Options.Add(option);
        command.SetAction(parse => QtamlCli.Guard(console, () =>
        {
            var settings = new CampaignSettings(parse.GetValue(inputs)!, parse.GetValue(labels), parse.GetValue(target), parse.GetValue(trials), parse.GetValue(maxInputs),
                parse.GetValue(seed), ParseBudgets(parse.GetValue(at)!), parse.GetValue(output)!, parse.GetValue(threads));
            return Run(console, common.Request(parse, budget: 1.0, settings.Target), settings, common.Cache(parse));
        }));
        return command;
    }

    internal sealed record CampaignSettings(string Inputs, string? Labels, double Target, int Trials, int MaxInputs, ulong Seed, double[] At, string Output, int Threads);

    private static double[] ParseBudgets(string text)
    {
        var budgets = new List<double>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double b) || !(b >= 0))
                throw ToolException.Usage($"--at takes budgets in bits per weight such as 0.1,0.25,0.5; '{part}' is not one.");
            budgets.Add(b);
        }
        return budgets.ToArray();
    }

    private static int Run(IAnsiConsole console, BuildRequest request, CampaignSettings settings, BuildCache? cache)
    {
        if (!(settings.Target > 0 && settings.Target <= 1)) throw ToolException.Usage($"--target must be in (0, 1]; got {settings.Target.ToString(CultureInfo.InvariantCulture)}.");
        if (settings.Trials < 2) throw ToolException.Usage($"--trials must be at least 2 (a confidence interval needs two); got {settings.Trials}.");
        if (settings.MaxInputs < 1) throw ToolException.Usage($"--max-inputs must be at least 1; got {settings.MaxInputs}.");
        if (settings.Threads < 0) throw ToolException.Usage($"--threads must be 0 (one per core) or more; got {settings.Threads}.");
        if (settings.At.FirstOrDefault(b => b > request.Bits) is double tooBig && tooBig > 0)
            throw ToolException.Usage($"--at budget {tooBig.ToString(CultureInfo.InvariantCulture)} is above {request.Bits}, every plane of a {request.Bits}-bit weight protected.");

        // The build a user would ship (whose forecast and rho* are reported), one class per encoding a build considers
        // (sign-magnitude up to 8 bits: every plan is designed in both and measured in the better), and the float reference.
        WeightEncoding[] encodings = request.Bits <= 8 ? new[] { WeightEncoding.TwosComplement, WeightEncoding.SignMagnitude } : new[] { WeightEncoding.TwosComplement };
        BuiltModel built = null!;
        console.Status().Start("Compiling the model with the Qtaml generator...", _ => built = InProcessBuild.Build(request, encodings, cache));
        CompiledVariant primary = built.Shipped;
        ModelInfo info = primary.Info;

        float[][] inputs = NpyInputs.Rows(settings.Inputs, primary.InputLength, settings.MaxInputs);
        // Decisions as the build counts them: one per input, or one per row of a final softmax over rows (a recogniser's characters).
        DecisionLayout decisions = primary.Decisions;
        int[] reference = inputs.SelectMany(x =>
        {
            float[] scores = new float[built.Reference.OutputLength];
            built.Reference.Run(x, scores);
            return decisions.Decide(scores);
        }).ToArray();
        int[]? labels = settings.Labels is null ? null : NpyInputs.Labels(settings.Labels, inputs.Length, decisions);
        double cleanAccuracy = labels is null ? 1 : reference.Zip(labels).Count(p => p.First == p.Second) / (double)reference.Length;
        double target = settings.Target * cleanAccuracy;
        string metric = labels is null ? "agreement with the float model" : "accuracy";

        // A node's codes are compensated for its window average and meet, at worst, the end of the window; a static p is both.
        FlipProbabilities compensated = new(info.P10, info.P01);
        TunnelingFaultModel faults = TunnelingFaultModel.ForModel(info, 1);
        var campaign = new PlanCampaign(built.Forced, inputs, labels ?? reference, compensated, faults,
            new PlanCampaignOptions(settings.Trials, settings.Seed, settings.Threads == 0 ? -1 : settings.Threads));

        console.MarkupLineInterpolated($"[bold]{request.ModelFile}[/] for {request.Faults.Describe()}: {info.Bits}-bit weights, {primary.Quantized.WeightCount:N0} in {info.Layers.Count} layers; {inputs.Length} inputs{(decisions.Positions > 1 ? $" of {decisions.Positions} decisions each (one per row of the final softmax)" : "")}, {settings.Trials} fault trials per plan (seed {settings.Seed})");
        console.MarkupLineInterpolated($"  faults: p10 = {InspectCommand.G(faults.Flips.P10)}, p01 = {InspectCommand.G(faults.Flips.P01)}{(info.HasWindow ? " (the end of the retention window)" : "")}; target: {(labels is null ? $"{Text.Percent(target, 1)} of decisions as the float model decides them" : $"{Text.Percent(settings.Target, 0)} of the float model's accuracy ({Text.Percent(cleanAccuracy, 2)}) = {Text.Percent(target, 2)}")}");

        var estimates = new Dictionary<Allocator, BudgetEstimate>();
        var atBudget = new List<PlanMeasurement>();
        void Search(Allocator allocator)
        {
            estimates[allocator] = campaign.MinimumBudget(allocator, target);
            foreach (double b in settings.At) atBudget.Add(campaign.Measure(allocator, b));
        }
        if (console.Profile.Capabilities.Interactive)
        {
            // A bar per allocator; a bisection measures about log2(grid) budgets for each of its three searches (mean, interval ends).
            console.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(context =>
                {
                    int perSearch = (int)Math.Ceiling(Math.Log2(request.Bits * BudgetSearch.DefaultStepsPerBit)) + 2;
                    foreach (Allocator allocator in Allocators)
                    {
                        ProgressTask task = context.AddTask($"{Name(allocator)}: minimum budget", maxValue: 2 * perSearch + settings.At.Length);
                        void Step(PlanMeasurement _) => task.Increment(1);
                        campaign.Measured += Step;
                        Search(allocator);
                        campaign.Measured -= Step;
                        task.Value = task.MaxValue;
                    }
                });
        }
        else
        {
            foreach (Allocator allocator in Allocators)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                int before = campaign.Measurements.Count;
                Search(allocator);
                console.MarkupLineInterpolated($"  {Name(allocator)}: {campaign.Measurements.Count - before} budgets measured in {clock.Elapsed.TotalSeconds:F0} s");
            }
        }
        IReadOnlyList<PlanMeasurement> measured = campaign.Measurements;

        WriteResults(console, info, estimates, atBudget, settings, metric);
        Directory.CreateDirectory(settings.Output);
        string csv = Path.Combine(settings.Output, "campaign.csv"), svg = Path.Combine(settings.Output, "campaign.svg"), json = Path.Combine(settings.Output, "summary.json");
        File.WriteAllText(csv, PlanMeasurementCsv.Render(measured));
        File.WriteAllText(svg, BudgetChart.Render(measured, target, metric, request.ModelFile + ", " + request.Faults.Describe()));
        File.WriteAllText(json, CampaignSummary.Json(request, settings, info, cleanAccuracy, labels is not null, target, inputs.Length, estimates, atBudget));
        console.MarkupLineInterpolated($"Every measured plan: {csv}; chart: {svg}; summary: {json}");
        return ExitCodes.Success;
    }

    private static void WriteResults(IAnsiConsole console, ModelInfo info, Dictionary<Allocator, BudgetEstimate> estimates, List<PlanMeasurement> atBudget, CampaignSettings settings, string metric)
    {
        var table = new Table().AddColumns("allocator", "minimum budget (bits/weight)", "95% interval", metric + " there (95% interval)", "protected planes per layer");
        foreach (Allocator allocator in Allocators)
        {
            BudgetEstimate e = estimates[allocator];
            table.AddRow(Name(allocator), Budget(e.Budget), Budget(e.Optimistic) + " to " + Budget(e.Pessimistic),
                e.AtBudget is { } m ? m.Result.Describe() : "-",
                e.AtBudget is { } p ? string.Join(" ", p.Plan.ProtectedPlanes) : "-");
        }
        console.Write(table);
        foreach (Allocator allocator in Allocators)
        {
            // A minimum budget whose interval still reaches below the target is not resolved by these trials.
            if (estimates[allocator].AtBudget is not { } found || found.Result.Lower95 >= settings.Target) continue;
            CampaignResult there = found.Result;
            double margin = there.Mean - settings.Target;
            // Trials K at which the interval's half-width, the larger of the spread between trials (s/√K) and the
            // decisions' own (√(p(1 − p)/(K·M))), shrinks to the margin above the target.
            double variance = Math.Max(there.StandardDeviation * there.StandardDeviation, there.Mean * (1 - there.Mean) / there.DecisionsPerTrial.GetValueOrDefault(1));
            string more = margin > 0 && variance > 0
                ? $"; about {Math.Max(settings.Trials + 1, (int)Math.Ceiling(1.96 * 1.96 * variance / (margin * margin)))} trials would resolve it (--trials)"
                : "; run more trials (--trials) or give more inputs";
            console.MarkupLineInterpolated($"[yellow]Warning:[/] {Name(allocator)}'s minimum budget is not resolved: there the 95% interval ({there.Lower95.ToPercent(2)} to {there.Upper95.ToPercent(2)}, {there.Trials} trials of {there.DecisionsPerTrial} decisions) reaches below the target {settings.Target.ToPercent(0)}{more}.");
        }
        BudgetRatio? ratio = BudgetRatio.Of(estimates[Allocator.UniformMsp], estimates[Allocator.Tac]);
        string predicted = "rho* predicted at build time: " + InspectCommand.R(info.Rho) + " (to the noise floor)" + (info.Forecast is { } f ? ", " + InspectCommand.R(f.Rho) + $" (for {Text.Percent(f.TargetAgreement, 0)} of decisions, calibrated)" : "");
        console.MarkupLine(ratio is { } r
            ? $"Uniform-MSP / TAC, measured: [bold]{InspectCommand.R(r.Ratio)}[/] (95% interval {InspectCommand.R(r.Low)} to {InspectCommand.R(r.High)}); {predicted}"
            : $"Uniform-MSP / TAC, measured: not defined ({Undefined(estimates[Allocator.UniformMsp], estimates[Allocator.Tac])}); {predicted}");

        if (atBudget.Count == 0) return;
        var fixedBudgets = new Table().AddColumn("budget (bits/weight)");
        foreach (Allocator allocator in Allocators) fixedBudgets.AddColumn(Name(allocator));
        foreach (double b in settings.At)
            fixedBudgets.AddRow(new[] { b.ToString("0.###", CultureInfo.InvariantCulture) }.Concat(Allocators.Select(a => atBudget.First(m => m.Allocator == a && m.Budget == b))
                .Select(m => m.Result.Describe())).ToArray());
        console.MarkupLineInterpolated($"{metric} at fixed budgets:");
        console.Write(fixedBudgets);
    }

    internal static string Name(Allocator allocator) => AllocatorNames.Of(allocator);

    /// <summary>Why the ratio has no value: an allocator that never kept the target, or TAC keeping it with no ECC.</summary>
    private static string Undefined(BudgetEstimate uniform, BudgetEstimate tac) =>
        tac.Budget is null ? "TAC never kept the target, even with every plane protected"
        : uniform.Budget is null ? "Uniform-MSP never kept the target"
        : "TAC keeps the target with no ECC at all";

    private static string Budget(double? budget) => budget is double b ? b.ToString("0.###", CultureInfo.InvariantCulture) : "not reached";
}
