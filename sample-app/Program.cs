using System.Diagnostics;
using System.Globalization;
using Qtaml.Data;
using Qtaml.Sample;
using Qtaml.Sample.Models;
using Spectre.Console;

// The main job: the MNIST CNN compiled for 2 nm, its clean accuracy, and a fault campaign at p_flip = 0.10
// comparing how much ECC each allocator needs to keep 95% of the clean accuracy.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
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
          --window            instead: each model compiled for 2nm, read through its retention window

        The models are compiled for those p (their mean correction and plans assume it); --p-flip and --node
        change only the faults injected, so a mismatch between design and reality can be measured too.
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

// The shipped model: baked weights, allocation-free. Its stored codes are pre-compensated for the flips the
// node will cause (TAC's mean correction), so it is meant to be read after a retention window, not before.
double Accuracy(Func<float[], int> predict) => Enumerable.Range(0, test.Count).Count(i => predict(test.Images[i]) == test.Labels[i]) / (double)test.Count;
double floatAccuracy = Accuracy(Variants.Clean("cnn"));
CampaignPoint digits = CampaignPoint.Of<Digits.Compiled>();
Qtaml.Faults.WeightImage stored = Digits.CreateWeightImage();
// Reads happen at any moment of the retention window: just after a refresh (no flips yet), halfway, and at its end.
Qtaml.Faults.CampaignResult AtMoment(double fraction)
{
    var leak = Qtaml.Faults.TunnelingFaultModel.ForModel(Digits.Info, fraction);
    return Qtaml.Faults.FaultCampaign.Run(10, 7, stored.Clone, (image, trial) =>
    {
        image.CopyFrom(stored);
        leak.Inject(image, Digits.Info.Protection, trial.Seed);
        return digits.Accuracy(image, test, test.Count);
    });
}
Qtaml.Faults.CampaignResult start = AtMoment(0), middle = AtMoment(0.5), shipped = AtMoment(1);
AnsiConsole.MarkupLine($"[bold]Digits[/]: the CNN compiled for {Digits.Info.Node} (p10 = {Digits.Info.WindowEndP10:G3} at the end of its 64 ms window; compensated for the {Digits.Info.OperatingPoint}, "
    + $"p10 = {Digits.Info.P10:G3}), {Digits.Info.Bits}-bit, TAC at {Digits.Info.EccBudget} bits/weight, "
    + $"protected planes per layer [[{string.Join(", ", Digits.Info.Protection)}]]; calibrated: {Digits.Info.Forecast!.PredictedAgreement:P1} of decisions predicted to survive the window's end");
AnsiConsole.MarkupLine($"  accuracy on the {test.Count} test digits: float [green]{floatAccuracy:P2}[/]; baked, read just after a refresh [green]{start.Mean:P2}[/], "
    + $"halfway through the window [green]{middle.Mean:P2}[/], at its end [green]{shipped.Mean:P2}[/] ± {shipped.HalfWidth95:P2} (10 trials each)");
AnsiConsole.MarkupLine($"[bold]Separable[/]: a MobileNet-style net (depthwise and pointwise convolutions), {Separable8Bit.Info.Layers.Count} weight layers: "
    + $"float {Accuracy(input => SeparableFloat.Predict(input)):P2}, 8-bit {Accuracy(input => Separable8Bit.Predict(input)):P2} on the same digits");
AnsiConsole.WriteLine();

CampaignPoint[] points = options.Model switch { "cnn" => Variants.Cnn, "transformer" => Variants.Transformer, _ => Variants.Mlp };
CampaignReport report = null!;
AnsiConsole.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
    .Start(ctx =>
    {
        var task = ctx.AddTask($"Fault campaign ({options.Model}, p_flip = {options.PFlip:0.###}, {options.Trials} trials x {options.TestImages} digits per point)", maxValue: points.Length);
        report = Campaign.Run(options, test, points, Variants.Clean(options.Model), (label, done, total) => task.Value = done);
    });

var table = new Table().AddColumns("allocator", "budget (bits/weight)", "protected planes per layer", "accuracy (mean)", "95% CI", "keeps 95% of clean");
foreach (MeasuredPoint p in report.Points.OrderBy(p => p.Allocator).ThenBy(p => p.Budget))
    table.AddRow(p.Allocator, p.Budget.ToString("0.##"), string.Join(" ", p.ProtectedPlanes), p.Accuracy.Mean.ToString("P2"),
        $"{p.Accuracy.Lower95:P2} .. {p.Accuracy.Upper95:P2}", p.Accuracy.Mean >= report.Target ? "[green]yes[/]" : "no");
AnsiConsole.Write(table);

string Budget(string allocator) => report.MinimumBudget(allocator) is double b ? $"{b:0.##} bits/weight" : "not reached";
AnsiConsole.MarkupLine($"Clean accuracy on the campaign's {Math.Min(options.TestImages, test.Count)} digits: {report.CleanAccuracyOnSubset:P2}; target (95% of it): {report.Target:P2}");
AnsiConsole.MarkupLine($"Minimum budget to keep 95% of clean accuracy: TAC {Budget("Tac")}, Uniform-MSP {Budget("UniformMsp")}, magnitude {Budget("MagnitudeBased")}, none {Budget("None")}");
AnsiConsole.MarkupLine($"Uniform-MSP / TAC, measured: [bold]{(report.MeasuredRatio is double r ? r.ToString("F2") + "x" : "n/a")}[/]; predicted at build time: rho* = [bold]{report.TacInfo.Rho:F2}x[/] at the noise floor"
    + (report.TacInfo.Forecast is { } forecast ? $", [bold]{forecast.Rho:F2}x[/] for 95% of decisions (calibrated)" : ""));

Directory.CreateDirectory(outputDirectory);
string chart = Path.Combine(outputDirectory, $"accuracy-vs-budget-{options.Model}.svg");
File.WriteAllText(chart, SvgChart.Render(report));
string csv = Path.Combine(outputDirectory, $"campaign-{options.Model}.csv");
File.WriteAllLines(csv, new[] { "allocator,budget,mean,lower95,upper95,trials" }.Concat(report.Points.Select(p =>
    string.Join(",", p.Allocator, p.Budget, p.Accuracy.Mean, p.Accuracy.Lower95, p.Accuracy.Upper95, p.Accuracy.Trials))));
AnsiConsole.MarkupLine($"Chart: {chart}; data: {csv}; {clock.Elapsed.TotalSeconds:F0} s in all");
return 0;
