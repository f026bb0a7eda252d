using System.Diagnostics;
using System.Globalization;
using Qtaml.Data;
using Qtaml.Sample;
using Qtaml.Plans;
using Qtaml.Sample.Models;
using Qtaml.Tac;
using Spectre.Console;

// The main job: the MNIST CNN compiled for 2 nm, its accuracy through the retention window, and a fault campaign at
// p_flip = 0.10 finding how much ECC each allocator needs to keep 95% of the clean accuracy. One compiled class per
// model: every plan the campaign measures is laid out at run time and run by that class.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
// Written to a file or a CI log, tables keep 160 columns instead of wrapping at 80 (the window study's too).
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 160;
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("""
        sample-app: MNIST models compiled by Qtaml for 2 nm, and a fault campaign.

        Usage: dotnet run --project sample-app [-- options]

          --model cnn|mlp|transformer   which compiled model (default cnn)
          --p-flip P          inject symmetric flips with probability P (default: the paper's setting,
                              0.10 for the CNN and MLP, 0.05 for the transformer encoder)
          --node NAME         inject with a node's physics instead (7nm, 5nm, 3nm, 2nm, A14)
          --trials N          fault trials per point (default 20)
          --test-images N     test digits per trial (default 500 of the 2,000-digit test split)
          --seed N            campaign seed (default 2026)
          --out DIR           where the chart and CSV go (default results)
          --at B1,B2,...      budgets at which every allocator is also measured (default 0.1,0.25,0.5)
          --window            instead: each model compiled for 2nm, read through its retention window

        Each model is one compiled class (for 2nm); the campaign's plans are designed for the faults asked for
        (--p-flip or --node) and laid out at run time, so any p or node is a campaign of the same class.
        """);
    return 0;
}

string Option(string name, string fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
}
string model = Option("--model", "cnn").ToLowerInvariant();
var options = new CampaignOptions(
    Model: model,
    PFlip: double.Parse(Option("--p-flip", model == "transformer" ? "0.05" : "0.10"), CultureInfo.InvariantCulture),
    Node: args.Contains("--node") ? Option("--node", "2nm") : null,
    Trials: int.Parse(Option("--trials", "20"), CultureInfo.InvariantCulture),
    TestImages: int.Parse(Option("--test-images", "500"), CultureInfo.InvariantCulture),
    Seed: ulong.Parse(Option("--seed", "2026"), CultureInfo.InvariantCulture));
string outputDirectory = Option("--out", "results");
if (options.Model is not ("cnn" or "mlp" or "transformer")) { Console.Error.WriteLine($"Unknown model '{options.Model}': use cnn, mlp or transformer."); return 2; }
if (options.Trials < 2 || options.TestImages < 1) { Console.Error.WriteLine("Use at least 2 trials and 1 test image."); return 2; }

var clock = Stopwatch.StartNew();
(_, MnistData test) = MnistData.Load(MnistData.DefaultPath());
if (args.Contains("--window"))
{
    WindowStudy.Run(test, options.Trials, options.Seed);
    return 0;
}
double[] fixedBudgets = Option("--at", "0.1,0.25,0.5").Split(',').Select(b => double.Parse(b, CultureInfo.InvariantCulture)).ToArray();

// The shipped model: baked weights, allocation-free. Its stored codes are pre-compensated for the flips the node will
// cause (TAC's mean correction), so it is meant to be read through a retention window, not before.
CompiledVariant digits = CompiledVariant.Of<Digits.Compiled>();
int[] labels = test.Labels.Select(l => (int)l).ToArray();
double plainAccuracy = Campaign.PlainAccuracy(digits, test.Images, labels);
Qtaml.Faults.WeightImage stored = Digits.CreateWeightImage();
// Reads happen at any moment of the retention window: just after a refresh (no flips yet), halfway, and at its end.
Qtaml.Faults.CampaignResult AtMoment(double fraction)
{
    var leak = Qtaml.Faults.TunnelingFaultModel.ForModel(Digits.Info, fraction);
    return Qtaml.Faults.FaultCampaign.Run(10, 7, stored.Clone, (image, trial) =>
    {
        image.CopyFrom(stored);
        leak.Inject(image, Digits.Info.Protection, trial.Seed);
        return PlanCampaign.DecisionShare(digits, image, test.Images, labels);
    });
}
Qtaml.Faults.CampaignResult start = AtMoment(0), middle = AtMoment(0.5), shipped = AtMoment(1);
// Written to a file or a CI log, tables keep a fixed width of 160 columns instead of wrapping at 80.
AnsiConsole.MarkupLine($"[bold]Digits[/]: the CNN compiled for {Digits.Info.Node} (p10 = {Digits.Info.WindowEndP10:G3} at the end of its 64 ms window; compensated for the {Qtaml.Physics.CompensationPoints.Describe(Digits.Info.OperatingPoint)}, "
    + $"p10 = {Digits.Info.P10:G3}), {Digits.Info.Bits}-bit, TAC at {Digits.Info.EccBudget} bits/weight, "
    + $"protected planes per layer [[{string.Join(", ", Digits.Info.Protection)}]]; calibrated: {Digits.Info.Forecast!.PredictedAgreement:P1} of decisions predicted to survive the window's end");
AnsiConsole.MarkupLine($"  accuracy on the {test.Count} test digits: plain 8-bit codes [green]{plainAccuracy:P2}[/]; baked, read just after a refresh [green]{start.Mean:P2}[/], "
    + $"halfway through the window [green]{middle.Mean:P2}[/], at its end [green]{shipped.Mean:P2}[/] ± {shipped.HalfWidth95:P2} (10 trials each)");
AnsiConsole.MarkupLine($"[bold]Separable[/]: a MobileNet-style net (depthwise and pointwise convolutions), {Separable8Bit.Info.Layers.Count} weight layers: "
    + $"8-bit {Enumerable.Range(0, test.Count).Count(i => Separable8Bit.Predict(test.Images[i]) == test.Labels[i]) / (double)test.Count:P2} on the same digits");
AnsiConsole.WriteLine();

CampaignReport report = null!;
AnsiConsole.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
    .Start(ctx =>
    {
        // Three bisections of about ten budgets per allocator, most of them shared, and the fixed budgets.
        var task = ctx.AddTask($"Fault campaign ({options.Model}, {(options.Node is null ? $"p_flip = {options.PFlip:0.###}" : options.Node)}, {options.Trials} trials x {options.TestImages} digits per plan)",
            maxValue: Campaign.Allocators.Length * (20 + fixedBudgets.Length) + 1);
        report = Campaign.Run(options, test, fixedBudgets, _ => task.Increment(1));
        task.Value = task.MaxValue;
    });

var table = new Table().AddColumns("allocator", "minimum budget (bits/weight)", "95% interval", "accuracy there", "protected planes per layer");
foreach (Allocator allocator in Campaign.Allocators)
{
    BudgetEstimate e = report.Budgets[allocator];
    table.AddRow(AllocatorNames.Of(allocator), Budget(e.Budget), $"{Budget(e.Optimistic)} to {Budget(e.Pessimistic)}",
        e.AtBudget is { } m ? m.Result.Describe() : "-", e.AtBudget is { } p ? string.Join(" ", p.Plan.ProtectedPlanes) : "-");
}
AnsiConsole.Write(table);
var atBudgets = new Table().AddColumn("budget (bits/weight)");
foreach (Allocator allocator in Campaign.Allocators) atBudgets.AddColumn(AllocatorNames.Of(allocator));
foreach (double b in fixedBudgets)
    atBudgets.AddRow(new[] { b.ToString("0.###") }.Concat(Campaign.Allocators.Select(a => report.Measurements.First(m => m.Allocator == a && m.Budget == b))
        .Select(m => m.Result.Describe())).ToArray());
AnsiConsole.Write(atBudgets);

string Budget(double? budget) => budget is double b ? b.ToString("0.###") : "not reached";
PlanMeasurement none = report.Measurements.First(m => m.Allocator == Allocator.None);
AnsiConsole.MarkupLine($"Faults: {report.FaultModel}. Clean accuracy (plain 8-bit codes, no flips) on the campaign's {Math.Min(options.TestImages, test.Count)} digits: {report.CleanAccuracy:P2}; "
    + $"target (95% of it): {report.Target:P2}; unprotected: {none.Result.Mean:P2}");
AnsiConsole.MarkupLine($"Uniform-MSP / TAC, measured: [bold]{(report.MeasuredRatio is double r ? r.ToString("F2") + "x" : "n/a")}[/]; predicted at build time: rho* = [bold]{report.Info.Rho:F2}x[/] at the noise floor"
    + (report.Info.Forecast is { } forecast ? $", [bold]{forecast.Rho:F2}x[/] for 95% of decisions (calibrated, for the node the class was built for)" : ""));

Directory.CreateDirectory(outputDirectory);
string chart = Path.Combine(outputDirectory, $"accuracy-vs-budget-{options.Model}.svg");
File.WriteAllText(chart, BudgetChart.Render(report.Measurements.Where(m => m.Allocator != Allocator.None).ToArray(), report.Target, "accuracy", $"digits {options.Model}, {report.FaultModel}"));
string csv = Path.Combine(outputDirectory, $"campaign-{options.Model}.csv");
File.WriteAllText(csv, PlanMeasurementCsv.Render(report.Measurements));
AnsiConsole.MarkupLine($"Chart: {chart}; data: {csv}; {clock.Elapsed.TotalSeconds:F0} s in all");
return 0;
