using Qtaml.Data;
using Qtaml.Generators.Tests.Generator;
using Qtaml.Generators.Tests.Support;
using Qtaml.Moments;
using Qtaml.Physics;
using Qtaml.Tac;

namespace Qtaml.Generators.Tests.Plans;

/// <summary>
/// Compensation never does harm: the codes a plan stores, read just after a refresh (no flip yet), move each layer at
/// most by the network's bound (the coherent sum over layers within plain quantization's own error), in both encodings
/// at every protection level; and a 2nm build at
/// EccBudget = 1.0 read with no flip decides as the float model does at most one point less often than plain 8-bit
/// codes do (the real-models issue's goal), on the sample networks and a deep test network.
/// </summary>
public class DoNoHarmTests
{
    /// <summary>8-bit codes like a trained layer's: roughly Gaussian, a root mean square of about 36 steps.</summary>
    private static int[] TrainedCodes(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            double g = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            return (int)Math.Clamp(Math.Round(36 * g), -127, 127);
        }).ToArray();
    }

    [Theory]
    [InlineData(CodeEncoding.TwosComplement)]
    [InlineData(CodeEncoding.SignMagnitude)]
    public void Stored_codes_read_before_any_flip_stay_within_the_bound_of_the_plain_codes(CodeEncoding encoding)
    {
        int[] codes = TrainedCodes(4000, 11);
        const double bound = 1.0 / 12;   // one layer's own rounding noise: the bound of a single-layer network
        // 2nm's window average (p10 = 0.051) and end (0.1), and a two-way leak.
        foreach (var flips in new[] { new FlipProbabilities(0.0509, 0), new FlipProbabilities(0.1, 0), new FlipProbabilities(0.05, 0.02) })
            for (int m = 0; m <= 8; m++)
            {
                CorrectedLayer corrected = MeanCorrection.ApplyDoingNoHarm(codes, 8, m, flips, encoding, bound);
                double shift = MeanCorrection.FreshShiftSquared(corrected, codes);
                Assert.True(shift <= bound * (1 + 1e-9), $"{encoding}, {flips}, {m} planes protected: mean squared shift {shift}");
                // Where the full correction already keeps within it, it is the full correction.
                CorrectedLayer full = MeanCorrection.Apply(codes, 8, m, flips, encoding);
                if (MeanCorrection.FreshShiftSquared(full, codes) <= bound)
                    Assert.Equal(full.ToArray(), corrected.ToArray());
            }
    }

    [Fact]
    public void A_correction_that_would_move_codes_further_is_scaled_back_not_dropped()
    {
        // Nothing protected at 2nm: the full correction scales every weight by 1/(1 − p10), 5% (about 1.9 steps
        // here); the limited one still corrects part of the drift, so the end of the window reads closer than plain.
        int[] codes = TrainedCodes(4000, 12);
        var flips = new FlipProbabilities(0.0509, 0);
        CorrectedLayer full = MeanCorrection.Apply(codes, 8, 0, flips, CodeEncoding.TwosComplement);
        CorrectedLayer limited = MeanCorrection.ApplyDoingNoHarm(codes, 8, 0, flips, CodeEncoding.TwosComplement, 1.0 / 12);
        Assert.True(MeanCorrection.FreshShiftSquared(full, codes) > 1);
        Assert.True(limited.ScaleFactor > 1 && limited.ScaleFactor < full.ScaleFactor, $"scale factor {limited.ScaleFactor} (full {full.ScaleFactor})");
    }

    [Fact]
    public void The_bound_is_one_layers_rounding_noise_shared_out_over_layers_of_like_sensitivity()
    {
        // One layer: its own rounding noise, 1/12 step². L like layers: the coherent sum L·√c equals √(L/12).
        Assert.Equal(1.0 / 12, MeanCorrection.FreshShiftBound(new[] { 0.3 }, new long[] { 500 }, new[] { 0.01 }), 12);
        foreach (int layers in new[] { 2, 10, 54, 1000 })
        {
            double bound = MeanCorrection.FreshShiftBound(Enumerable.Repeat(1.0, layers).ToArray(), Enumerable.Repeat(4096L, layers).ToArray(), Enumerable.Repeat(0.02, layers).ToArray());
            Assert.Equal(1.0 / (12 * layers), bound, 12);
            (double coherent, double plain) = MeanCorrection.FreshError(Enumerable.Repeat(1.0, layers).ToArray(), Enumerable.Repeat(4096L, layers).ToArray(), Enumerable.Repeat(0.02, layers).ToArray(), Enumerable.Repeat(bound, layers).ToArray());
            Assert.Equal(plain, coherent, 9);
        }
        // A layer that cannot matter (G = 0) takes no share: the others keep a single layer's bound.
        Assert.Equal(1.0 / 12, MeanCorrection.FreshShiftBound(new[] { 1.0, 0.0 }, new long[] { 100, 100 }, new[] { 0.1, 0.1 }), 12);
    }

    private static int Agreement(Func<float[], float[]> a, Func<float[], float[]> b, IEnumerable<float[]> inputs) =>
        inputs.Count(x => ArgMax(a(x)) == ArgMax(b(x)));

    private static int ArgMax(float[] values) => Array.IndexOf(values, values.Max());

    [Theory]
    [InlineData("digits-mlp.onnx")]
    [InlineData("digits-cnn.onnx")]
    [InlineData("digits-resnet.onnx")]
    public void A_2nm_build_read_before_any_flip_decides_like_plain_8_bit_codes(string file)
    {
        byte[] model = File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", file));
        (_, MnistData test) = MnistData.Load(MnistData.DefaultPath());
        float[][] digits = test.Images.Take(300).ToArray();
        AssertNoHarm(file, model, digits);
    }

    [Fact]
    public void A_deep_network_built_for_2nm_read_before_any_flip_decides_like_plain_8_bit_codes()
    {
        // Thirty dense layers with residual connections: corrections compound over depth if they move the codes.
        var builder = new OnnxModelBuilder(new long[] { 1, 16 }, seed: 30);
        for (int i = 0; i < 30; i++)
        {
            string before = builder.Current;
            builder.Gemm(16, 16, 0.35).Relu().AddValue(before);
        }
        byte[] model = builder.Gemm(16, 10).Softmax().Build(new long[] { 1, 10 });
        float[][] inputs = Enumerable.Range(0, 300).Select(seed => TestModels.Input(16, seed).Select(v => 2 * v - 1).ToArray()).ToArray();
        AssertNoHarm("30 residual dense layers", model, inputs);
    }

    private static void AssertNoHarm(string what, byte[] model, float[][] inputs)
    {
        (Func<float[], float[]> exact, _) = OnnxRuntimeComparisonTests.Compile(model, ", Quantize = false");
        (Func<float[], float[]> plain, _) = OnnxRuntimeComparisonTests.Compile(model, ", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0");
        (Func<float[], float[]> node, _) = OnnxRuntimeComparisonTests.Compile(model, ", Node = \"2nm\", EccBudget = 1.0");
        int plainAgree = Agreement(exact, plain, inputs), nodeAgree = Agreement(exact, node, inputs);
        // Deterministic (no flip is drawn): the goal of at most one point below plain 8-bit codes, as a count.
        Assert.True(nodeAgree >= plainAgree - inputs.Length / 100,
            $"{what}: the 2nm build agrees with the float model on {nodeAgree} of {inputs.Length} inputs, plain 8-bit codes on {plainAgree}");
    }
}
