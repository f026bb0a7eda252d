using Qtaml.Data;
using Qtaml.Faults;
using Qtaml.Physics;
using Qtaml.Plans;
using Qtaml.Sample.Models;
using Qtaml.Tac;
using Spectre.Console;

namespace Qtaml.Sample;

/// <summary>
/// How a node build does through its retention window (--window): each model's accuracy on the test digits when read
/// just after a refresh, halfway and at the end, for the shipped build (compensated for the window average) and the
/// same plan compensated for the window's end instead (a runtime plan of the same class), next to its plain 8-bit
/// codes; seeded fault trials at each moment.
/// </summary>
internal static class WindowStudy
{
    private static readonly double[] Moments = { 0, 0.5, 1 };

    public static void Run(MnistData test, int trials, ulong seed)
    {
        var table = new Table().AddColumns("model", "build", "plain 8-bit", "just after a refresh", "halfway", "end of window", "95% of plain");
        float[][] inputs = test.Images;
        int[] labels = test.Labels.Select(l => (int)l).ToArray();
        foreach (string name in SampleModels.Names)
        {
            CompiledVariant model = SampleModels.Of(name);
            ModelInfo info = model.Info;
            double plain = Campaign.PlainAccuracy(model, inputs, labels);
            var endOfWindow = new FlipProbabilities(info.WindowEndP10, info.WindowEndP01);
            ProtectionPlan shippedPlan = model.Quantized.Design(info.Allocator, info.EccBudget, new FlipProbabilities(info.P10, info.P01));
            ProtectionPlan endPlan = model.Quantized.Design(info.Allocator, info.EccBudget, endOfWindow);
            string budget = info.EccBudget.ToString("0.###") + " bits/weight";
            Row(table, name, $"shipped: window average, {info.Encoding}, recommended {budget}", model, model.Quantized.CreateImage(shippedPlan, new FlipProbabilities(info.P10, info.P01)), shippedPlan, plain, inputs, labels, trials, seed);
            Row(table, name, $"compensated for the window's end instead, {budget}", model, model.Quantized.CreateImage(endPlan, endOfWindow), endPlan, plain, inputs, labels, trials, seed);
        }
        AnsiConsole.MarkupLine($"[bold]Through the 2nm retention window[/] (p10 from 0 just after a refresh to 0.10 at 64 ms; {trials} trials at each moment, mean ± 95% half-width):");
        AnsiConsole.Write(table);
    }

    private static void Row(Table table, string model, string build, CompiledVariant compiled, WeightImage stored, ProtectionPlan plan, double plain,
        float[][] inputs, int[] labels, int trials, ulong seed)
    {
        var cells = new List<string> { model, build, plain.ToString("P2") };
        foreach (double moment in Moments)
        {
            TunnelingFaultModel leak = TunnelingFaultModel.ForModel(compiled.Info, moment);
            CampaignResult result = FaultCampaign.Run(trials, seed, stored.Clone, (image, trial) =>
            {
                image.CopyFrom(stored);
                leak.Inject(image, plan, trial.Seed);
                return PlanCampaign.DecisionShare(compiled, image, inputs, labels);
            });
            string cell = result.Mean.ToString("P2") + (moment == 0 ? "" : " ± " + result.HalfWidth95.ToString("P2"));
            cells.Add(result.Mean >= 0.95 * plain ? cell : "[red]" + cell + "[/]");
        }
        cells.Add((0.95 * plain).ToString("P2"));
        table.AddRow(cells.ToArray());
    }
}
