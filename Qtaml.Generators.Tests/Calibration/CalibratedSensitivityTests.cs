extern alias gen;
using Qtaml.Data;
using Qtaml.Faults;
using Qtaml.Generators.Tests.Support;
using Qtaml.Sample.Models;
using CalibrationProfile = gen::Qtaml.Generators.Calibration.CalibrationProfile;
using NetworkGraph = gen::Qtaml.Generators.Network.NetworkGraph;
using NpyReader = gen::Qtaml.Generators.Calibration.NpyReader;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;
using WeightLayer = gen::Qtaml.Generators.Network.WeightLayer;

namespace Qtaml.Generators.Tests.Calibration;

/// <summary>
/// G_l measured by calibration (the float network's Jacobian, probed on the sample's calibration digits) ranks the
/// layers of each sample model as their measured sensitivity does: noise added to the stored codes of one layer
/// at a time of the compiled 8-bit model, the squared change of its outputs on test digits (which calibration
/// never saw) divided by the noise's variance in weight units, n_l·s_l²·Var[noise].
/// </summary>
public class CalibratedSensitivityTests
{
    private const int TestDigits = 100, Trials = 3, NoiseCodes = 4;

    public static TheoryData<string> Models => new() { "mlp", "cnn", "transformer" };

    [Theory]
    [MemberData(nameof(Models))]
    public void Calibrated_sensitivity_ranks_the_layers_as_measured_noise_does(string model)
    {
        (string file, double[] measured) = model switch
        {
            "mlp" => ("digits-mlp.onnx", Measure<MlpNode>()),
            "cnn" => ("digits-cnn.onnx", Measure<Digits.Compiled>()),
            _ => ("digits-transformer.onnx", Measure<TransformerNode>()),
        };
        NetworkGraph graph = OnnxReader.Read(file, File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", file)));
        var calibration = NpyReader.Read(File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", "calibration.npy")), 96);
        double[] calibrated = CalibrationProfile.Measure(graph, calibration, TestContext.Current.CancellationToken).Sensitivity;

        // Per weight, the noise's variance in weight units: the layer's quantization step squared (the root mean
        // square of its channels' max|w|/127) times the codes' variance.
        WeightLayer[] layers = graph.Layers.OfType<WeightLayer>().ToArray();
        double codeVariance = NoiseCodes * (NoiseCodes + 1) / 3.0;   // uniform on −k..k
        double[] perUnit = measured.Select((m, l) => m / (layers[l].Weights.Length * StepSquared(layers[l]) * codeVariance)).ToArray();

        double rho = Spearman(calibrated, perUnit);
        Assert.True(rho >= 0.9, $"{model}: Spearman {rho:F3}; calibrated [{string.Join(", ", calibrated.Select(g => g.ToString("G3")))}], measured [{string.Join(", ", perUnit.Select(g => g.ToString("G3")))}]");
    }

    private static double StepSquared(WeightLayer layer)
    {
        int per = layer.WeightsPerChannel;
        return Enumerable.Range(0, layer.Channels).Average(c =>
        {
            double max = Enumerable.Range(0, per).Max(i => Math.Abs((double)layer.Weights[c * per + i])) / 127;
            return max * max;
        });
    }

    /// <summary>
    /// Per weight layer: the mean squared change of the outputs when that layer's codes get uniform noise on −k..k,
    /// from the model's plain 8-bit codes (a runtime plan with no flips: nothing compensated, nothing protected).
    /// </summary>
    private static double[] Measure<T>() where T : ICompiledModel
    {
        (_, MnistData test) = MnistData.Load(MnistData.DefaultPath());
        WeightImage clean = T.Quantized.CreateImage(Qtaml.Tac.Allocator.None, 0, Qtaml.Physics.FlipProbabilities.None);
        var baseline = new float[TestDigits][];
        for (int i = 0; i < TestDigits; i++) T.Run(clean, test.Images[i], baseline[i] = new float[T.OutputLength]);
        var output = new float[T.OutputLength];
        var random = new Random(17);
        var result = new double[clean.Layers.Count];
        for (int l = 0; l < result.Length; l++)
        {
            double sum = 0;
            for (int trial = 0; trial < Trials; trial++)
            {
                WeightImage noisy = clean.Clone();
                int max = (1 << (noisy.Bits - 1)) - 1;
                for (int i = 0; i < noisy.Layers[l].Count; i++)
                    noisy.SetCode(l, i, Math.Clamp(noisy.GetCode(l, i) + random.Next(-NoiseCodes, NoiseCodes + 1), -max, max));
                for (int d = 0; d < TestDigits; d++)
                {
                    T.Run(noisy, test.Images[d], output);
                    for (int j = 0; j < output.Length; j++) sum += (output[j] - baseline[d][j]) * (double)(output[j] - baseline[d][j]);
                }
            }
            result[l] = sum / (Trials * TestDigits);
        }
        return result;
    }

    private static double Spearman(double[] a, double[] b)
    {
        double[] ra = Ranks(a), rb = Ranks(b);
        double ma = ra.Average(), mb = rb.Average();
        double cov = ra.Zip(rb, (x, y) => (x - ma) * (y - mb)).Sum();
        return cov / Math.Sqrt(ra.Sum(x => (x - ma) * (x - ma)) * rb.Sum(y => (y - mb) * (y - mb)));
    }

    private static double[] Ranks(double[] values)
    {
        int[] order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        for (int r = 0; r < order.Length; r++) ranks[order[r]] = r;
        return ranks;
    }
}
