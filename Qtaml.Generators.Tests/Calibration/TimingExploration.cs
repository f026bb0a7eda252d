extern alias gen;
using Qtaml.Generators.Tests.Support;
using NetworkGraph = gen::Qtaml.Generators.Network.NetworkGraph;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;
using NpyReader = gen::Qtaml.Generators.Calibration.NpyReader;
using CalibrationProfile = gen::Qtaml.Generators.Calibration.CalibrationProfile;

namespace Qtaml.Generators.Tests.Calibration;

public class TimingExploration
{
    [Fact(Explicit = true)]
    public void Time()
    {
        var npy = NpyReader.Read(File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", "calibration.npy")), 256);
        foreach (string m in new[] { "digits-mlp.onnx", "digits-cnn.onnx", "digits-transformer.onnx", "digits-separable.onnx" })
        {
            NetworkGraph graph = OnnxReader.Read(m, File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", m)));
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var profile = CalibrationProfile.Measure(graph, npy, TestContext.Current.CancellationToken);
            File.AppendAllText("/tmp/timing.txt", "\n" + $"{m}: {sw.Elapsed.TotalSeconds:F2} s, G = [{string.Join(", ", profile.Sensitivity.Select(g => g.ToString("G3")))}]");
            sw.Restart();
            double a = profile.Agreement!.Predict(profile.Sensitivity.Select(_ => 1e-4).ToArray());
            File.AppendAllText("/tmp/timing.txt", "\n" + $"  predict {sw.Elapsed.TotalMilliseconds:F1} ms -> {a:P1}");
        }
    }
}
