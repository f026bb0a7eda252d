using System.Globalization;
using System.Reflection;
using Qtaml.Data;
using Qtaml.Faults;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Calibration;

public class ForecastExploration
{
    [Fact(Explicit = true)]
    public void Explore()
    {
        string model = Environment.GetEnvironmentVariable("QTAML_MODEL") ?? "digits-cnn.onnx";
        double p = double.Parse(Environment.GetEnvironmentVariable("QTAML_P") ?? "0.1", CultureInfo.InvariantCulture);
        byte[] onnx = File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", model));
        byte[] npy = File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", "calibration.npy"));
        var points = new List<(string Name, string Allocator, double Budget)>();
        foreach (string a in new[] { "Tac", "UniformMsp", "MagnitudeBased" })
            for (int k = 0; k <= 24; k += a == "UniformMsp" ? 8 : 1)
                points.Add(($"{a}{k}", a, k / 8.0));
        string source = "using Qtaml; using Qtaml.Tac;\n" + string.Join("\n", points.Select(pt =>
            $"[TunnelingCompensated(\"Models/m.onnx\", FlipProbability = {p.ToString(CultureInfo.InvariantCulture)}, EccBudget = {pt.Budget.ToString(CultureInfo.InvariantCulture)}, Allocator = Allocator.{pt.Allocator}, Calibration = \"Models/calibration.npy\")] public sealed partial class {pt.Name} {{ }}"))
            + "\n[TunnelingCompensated(\"Models/m.onnx\", Quantize = false)] public sealed partial class Float { }";
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var run = GeneratorHarness.Run(source, new[] { GeneratorHarness.WeightFile("Models/m.onnx", onnx), GeneratorHarness.WeightFile("Models/calibration.npy", npy) });
        File.AppendAllText("/tmp/forecast-" + model + ".txt", $"generated in {sw.Elapsed.TotalSeconds:F1} s" + "\n");
        foreach (var d in run.GeneratorDiagnostics.Where(d => d.Id != "QTAML028")) File.AppendAllText("/tmp/forecast-" + model + ".txt", d.ToString() + "\n");
        Assembly assembly = GeneratorHarness.CompileAndLoad(run.Output);
        File.AppendAllText("/tmp/forecast-" + model + ".txt", $"compiled in {sw.Elapsed.TotalSeconds:F1} s" + "\n");
        (_, MnistData test) = MnistData.Load(MnistData.DefaultPath());
        int n = 500;
        MethodInfo measure = typeof(ForecastExploration).GetMethod(nameof(Measure), BindingFlags.NonPublic | BindingFlags.Static)!;
        int[] reference = ((double[])measure.MakeGenericMethod(assembly.GetType("Float")!).Invoke(null, new object?[] { test, n, null, 0.0 })!).Select(v => (int)v).ToArray();
        foreach (var pt in points)
        {
            Type type = assembly.GetType(pt.Name)!;
            var info = (ModelInfo)type.GetProperty("Info")!.GetValue(null)!;
            double measured = ((double[])measure.MakeGenericMethod(type).Invoke(null, new object?[] { test, n, reference, p })!)[0];
            File.AppendAllText("/tmp/forecast-" + model + ".txt", $"{pt.Allocator,-15} {pt.Budget,5:F3}  predicted {info.Forecast!.PredictedAgreement,7:P1}  measured {measured,7:P1}  [{string.Join(",", info.Protection)}] {info.Encoding}" + "\n");
            if (pt.Name == "Tac0" && false) File.AppendAllText("/tmp/forecast-" + model + ".txt", info.ToString() + "\n");
        }
    }

    private static double[] Measure<T>(MnistData test, int n, int[]? reference, double p) where T : ICompiledModel
    {
        var y = new float[T.OutputLength];
        int Decide(WeightImage? image, float[] x)
        {
            if (image is null) T.Run(x, y); else T.Run(image, x, y);
            int best = 0;
            for (int i = 1; i < y.Length; i++) if (y[i] > y[best]) best = i;
            return best;
        }
        if (reference is null) return Enumerable.Range(0, n).Select(i => (double)Decide(null, test.Images[i])).ToArray();
        var faults = TunnelingFaultModel.Symmetric(p);
        WeightImage clean = T.CreateWeightImage(), image = T.CreateWeightImage();
        long kept = 0, total = 0;
        for (int trial = 0; trial < 10; trial++)
        {
            image.CopyFrom(clean);
            faults.Inject(image, T.Info.Protection, (ulong)(1000 + trial));
            for (int i = 0; i < n; i++, total++) if (Decide(image, test.Images[i]) == reference[i]) kept++;
        }
        return new[] { (double)kept / total };
    }
}
