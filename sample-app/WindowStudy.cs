using Qtaml.Data;
using Qtaml.Faults;
using Qtaml.Sample.Models;
using Spectre.Console;

namespace Qtaml.Sample;

/// <summary>
/// How a node build does through its retention window (--window): each model's accuracy on the test digits when
/// read just after a refresh, halfway and at the end, for the build compensated for the window average and the one
/// compensated for the end, next to its plain 8-bit build; seeded fault trials at each moment.
/// </summary>
internal static class WindowStudy
{
    private static readonly double[] Moments = { 0, 0.5, 1 };

    public static void Run(MnistData test, int trials, ulong seed)
    {
        var table = new Table().AddColumns("model", "build", "plain 8-bit", "just after a refresh", "halfway", "end of window", "95% of clean");
        foreach ((string model, Predictor clean, CampaignPoint plain, (string Build, CampaignPoint Point)[] builds) in new (string, Predictor, CampaignPoint, (string, CampaignPoint)[])[]
        {
            ("CNN", CnnFloat.Predict, CampaignPoint.Of<CnnPlain8>(), new[] { ("default", CampaignPoint.Of<Digits.Compiled>()), ("two's complement", CampaignPoint.Of<CnnTwos>()), ("before: two's complement, end of window", CampaignPoint.Of<CnnEndOfWindow>()) }),
            ("MLP", MlpFloat.Predict, CampaignPoint.Of<MlpPlain8>(), new[] { ("default", CampaignPoint.Of<MlpNode>()), ("two's complement", CampaignPoint.Of<MlpTwos>()), ("before: two's complement, end of window", CampaignPoint.Of<MlpEndOfWindow>()) }),
            ("encoder", TransformerFloat.Predict, CampaignPoint.Of<TransformerPlain8>(), new[] { ("default", CampaignPoint.Of<TransformerNode>()), ("two's complement", CampaignPoint.Of<TransformerTwos>()), ("before: two's complement, end of window", CampaignPoint.Of<TransformerEndOfWindow>()) }),
        })
            foreach ((string build, CampaignPoint point) in builds)
                Row(table, model, build == "default" ? "default: window average, " + point.Info.Encoding + ", recommended " + point.Info.EccBudget.ToString("0.###") + " bits/weight" : build + ", 1 bit/weight", point, plain, clean, test, trials, seed);
        AnsiConsole.MarkupLine($"[bold]Through the 2nm retention window[/] (p10 from 0 just after a refresh to 0.10 at 64 ms; {trials} trials at each moment, mean ± 95% half-width):");
        AnsiConsole.Write(table);
    }

    private delegate int Predictor(ReadOnlySpan<float> input);

    private static void Row(Table table, string model, string target, CampaignPoint build, CampaignPoint plain, Predictor clean, MnistData test, int trials, ulong seed)
    {
        double cleanAccuracy = Enumerable.Range(0, test.Count).Count(i => clean(test.Images[i]) == test.Labels[i]) / (double)test.Count;
        double plainAccuracy = plain.Accuracy(plain.CreateImage(), test, test.Count);
        WeightImage stored = build.CreateImage();
        var cells = new List<string> { model, target, plainAccuracy.ToString("P2") };
        foreach (double moment in Moments)
        {
            TunnelingFaultModel leak = TunnelingFaultModel.ForModel(build.Info, moment);
            CampaignResult result = FaultCampaign.Run(trials, seed, stored.Clone, (image, trial) =>
            {
                image.CopyFrom(stored);
                leak.Inject(image, build.Info.Protection, trial.Seed);
                return build.Accuracy(image, test, test.Count);
            });
            string cell = result.Mean.ToString("P2") + (moment == 0 ? "" : " ± " + result.HalfWidth95.ToString("P2"));
            cells.Add(result.Mean >= 0.95 * cleanAccuracy ? cell : "[red]" + cell + "[/]");
        }
        cells.Add((0.95 * cleanAccuracy).ToString("P2"));
        table.AddRow(cells.ToArray());
    }
}
