using System.Globalization;
using System.Reflection;
using System.Text;
using Qtaml.Data;
using Qtaml.Faults;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Calibration;

/// <summary>
/// Predicted against measured (explicit: minutes of compiling and fault trials; writes docs/forecast.md): each
/// sample model is compiled in process by the generator at every budget of a 1/8-bit grid for each allocator, with
/// the sample's calibration inputs; each build's faulted accuracy is measured as agreement with the float model's
/// decisions on the first 500 test digits (10 seeded trials), and the measured minimum budget for 95% agreement is
/// set beside the one the build predicts.
/// <code>dotnet test -c Release --project Qtaml.Generators.Tests -- --filter-class "*ForecastReport" --explicit only</code>
/// </summary>
public class ForecastReport
{
    private const int Digits = 500, Trials = 20, GridSteps = 8;
    private const double Target = 0.95;

    private sealed record Point(string Class, string Allocator, double Budget);

    private sealed record Row(string Allocator, double Predicted, double? Measured, IReadOnlyList<(double Budget, double Predicted, double Measured)> Curve);

    [Fact(Explicit = true)]
    public void Writes_predicted_against_measured_budgets_to_docs_forecast_md()
    {
        var report = new StringBuilder();
        report.AppendLine("# Predicted against measured: the budget for 95% of decisions").AppendLine()
            .AppendLine("Written by `ForecastReport` (Qtaml.Generators.Tests/Calibration), an explicit test:")
            .AppendLine("`dotnet test -c Release --project Qtaml.Generators.Tests -- --filter-class \"*ForecastReport\" --explicit only`.").AppendLine()
            .AppendLine("Each sample model is compiled in process by the generator at every budget of a grid of 1/8 bit per weight (whole bits for")
            .AppendLine("Uniform-MSP, whose plans change only there), calibrated on `sample-app/Models/calibration.npy` (the last 256 test digits,")
            .AppendLine($"unlabeled). Measured: the share of the first {Digits} test digits whose decision (arg max) matches the float model's, {Trials}")
            .AppendLine("seeded fault trials per build, symmetric flips at the campaigns' p. Measured minimum: the smallest grid budget whose agreement")
            .AppendLine("reaches 95%. Predicted: what the build itself reports (`Info.Forecast`), found on a 1/64 grid.").AppendLine();
        var summary = new StringBuilder("| model | p | allocator | predicted minimum | measured minimum (1/8 grid) | difference |\n|---|---|---|---|---|---|\n");
        var ratios = new StringBuilder("| model | rho* predicted at 95% | measured Uniform-MSP / TAC |\n|---|---|---|\n");
        var curves = new StringBuilder();
        foreach ((string name, string file, double p) in new[] { ("CNN", "digits-cnn.onnx", 0.10), ("MLP", "digits-mlp.onnx", 0.10), ("encoder", "digits-transformer.onnx", 0.05) })
        {
            Row[] rows = Measure(file, p, out double rho);
            foreach (Row row in rows)
                summary.Append(CultureInfo.InvariantCulture, $"| {name} | {p:0.##} | {row.Allocator} | {B(row.Predicted)} | {(row.Measured is double m ? B(m) : "not reached")} | {(row.Measured is double m2 ? (row.Predicted - m2).ToString("+0.000;-0.000;0", CultureInfo.InvariantCulture) : "")} |\n");
            double? tac = rows.Single(r => r.Allocator == "Tac").Measured, uniform = rows.Single(r => r.Allocator == "UniformMsp").Measured;
            ratios.Append(CultureInfo.InvariantCulture, $"| {name} | {rho:0.00} | {(tac is > 0 && uniform is double u ? (u / tac.Value).ToString("0.00", CultureInfo.InvariantCulture) : "n/a")} |\n");
            curves.AppendLine(CultureInfo.InvariantCulture, $"### {name} (p = {p:0.##})").AppendLine().AppendLine("| allocator | budget | predicted agreement | measured agreement |").AppendLine("|---|---|---|---|");
            foreach (Row row in rows)
                foreach ((double budget, double predicted, double measured) in row.Curve)
                    curves.AppendLine(CultureInfo.InvariantCulture, $"| {row.Allocator} | {budget:0.000} | {predicted:P1} | {measured:P1} |");
            curves.AppendLine();
        }
        report.AppendLine(summary.ToString()).AppendLine(ratios.ToString()).AppendLine("## Agreement at each budget").AppendLine().Append(curves);
        File.WriteAllText(RepositoryPaths.Combine("docs", "forecast.md"), report.ToString().TrimEnd() + "\n");
    }

    private static string B(double bits) => double.IsPositiveInfinity(bits) ? "unreachable" : bits.ToString("0.000", CultureInfo.InvariantCulture);

    private static Row[] Measure(string file, double p, out double rho)
    {
        byte[] onnx = File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", file));
        byte[] npy = File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", "calibration.npy"));
        var points = new List<Point>();
        foreach (string allocator in new[] { "Tac", "UniformMsp", "MagnitudeBased" })
            for (int k = 0; k <= 3 * GridSteps; k += allocator == "UniformMsp" ? GridSteps : 1)
                points.Add(new Point(allocator + k, allocator, (double)k / GridSteps));
        string P(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        string source = "using Qtaml; using Qtaml.Tac;\n" + string.Join("\n", points.Select(pt =>
            $"[TunnelingCompensated(\"Models/m.onnx\", FlipProbability = {P(p)}, EccBudget = {P(pt.Budget)}, Allocator = Allocator.{pt.Allocator}, Calibration = \"Models/calibration.npy\")] public sealed partial class {pt.Class} {{ }}"))
            + "\n[TunnelingCompensated(\"Models/m.onnx\", Quantize = false)] public sealed partial class Float { }";
        var run = GeneratorHarness.Run(source, new[] { GeneratorHarness.WeightFile("Models/m.onnx", onnx), GeneratorHarness.WeightFile("Models/calibration.npy", npy) });
        Assembly assembly = GeneratorHarness.CompileAndLoad(run.Output);
        (_, MnistData test) = MnistData.Load(RepositoryPaths.Combine("data", "mnist-10k.bin.gz"));
        MethodInfo decide = typeof(ForecastReport).GetMethod(nameof(Decisions), BindingFlags.NonPublic | BindingFlags.Static)!;
        int[] reference = (int[])decide.MakeGenericMethod(assembly.GetType("Float")!).Invoke(null, new object?[] { test, 0.0 })!;
        var measured = new Dictionary<Point, double>();
        foreach (Point point in points)
        {
            int[] decisions = (int[])decide.MakeGenericMethod(assembly.GetType(point.Class)!).Invoke(null, new object?[] { test, p })!;
            measured[point] = decisions.Select((d, i) => d == reference[i % Digits] ? 1.0 : 0.0).Average();
        }
        AgreementForecast forecast = Info(assembly, points[0]).Forecast!;
        rho = forecast.Rho;
        return new[] { "Tac", "UniformMsp", "MagnitudeBased" }.Select(allocator =>
        {
            Point[] grid = points.Where(pt => pt.Allocator == allocator).ToArray();
            double? first = grid.FirstOrDefault(pt => measured[pt] >= Target)?.Budget;
            return new Row(allocator, forecast.BudgetFor(Enum.Parse<Qtaml.Tac.Allocator>(allocator)), first,
                grid.Select(pt => (pt.Budget, Info(assembly, pt).Forecast!.PredictedAgreement, measured[pt])).ToArray());
        }).ToArray();
    }

    private static ModelInfo Info(Assembly assembly, Point point) => (ModelInfo)assembly.GetType(point.Class)!.GetProperty("Info")!.GetValue(null)!;

    /// <summary>The decisions on the first digits: clean for p = 0, else under <see cref="Trials"/> seeded fault trials, concatenated.</summary>
    private static int[] Decisions<T>(MnistData test, double p) where T : ICompiledModel
    {
        var y = new float[T.OutputLength];
        int ArgMax()
        {
            int best = 0;
            for (int i = 1; i < y.Length; i++) if (y[i] > y[best]) best = i;
            return best;
        }
        var decisions = new List<int>();
        if (p == 0)
        {
            for (int i = 0; i < Digits; i++) { T.Run(test.Images[i], y); decisions.Add(ArgMax()); }
            return decisions.ToArray();
        }
        var faults = TunnelingFaultModel.Symmetric(p);
        WeightImage clean = T.CreateWeightImage(), image = T.CreateWeightImage();
        for (int trial = 0; trial < Trials; trial++)
        {
            image.CopyFrom(clean);
            faults.Inject(image, T.Info.Protection, (ulong)(2026 + trial));
            for (int i = 0; i < Digits; i++) { T.Run(image, test.Images[i], y); decisions.Add(ArgMax()); }
        }
        return decisions.ToArray();
    }
}
