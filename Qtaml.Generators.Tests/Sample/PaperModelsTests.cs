using Qtaml.Data;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Sample;

/// <summary>
/// The paper experiment's VGG-style and ResNet-style nets (tools/Qtaml.Train --paper-cnns, trained on the digits; the
/// ResNet's BatchNormalization folded into its convolutions by the generator) agree with ONNX Runtime on real digits:
/// the float build within 1e-4, the 8-bit build within 1e-4 of ONNX Runtime running the same dequantized weights; and
/// they classify the test digits as trained.
/// </summary>
public class PaperModelsTests
{
    private const int TestDigits = 100;
    private static readonly long[] InputShape = { 1, 1, 28, 28 };

    public static TheoryData<string, double> Models => new() { { "digits-vgg.onnx", 0.9790 }, { "digits-resnet.onnx", 0.9705 } };

    private static (Action<float[], float[]> Float, Action<float[], float[]> Quantized) Builds(string file)
    {
        (string, string)[] classes = { ("Float", ", Quantize = false"), ("Plain8", ", FlipProbability = 0.0, EccBudget = 0.0") };
        return (InProcessModels.Run(InProcessModels.Class(file, classes, "Float")), InProcessModels.Run(InProcessModels.Class(file, classes, "Plain8")));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Float_and_8_bit_builds_match_OnnxRuntime_on_real_digits(string file, double trained)
    {
        Assert.InRange(trained, 0.9, 1);
        (_, MnistData test) = MnistData.Load(MnistData.DefaultPath());
        byte[] model = File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", file));
        using var exact = new OnnxRuntimeReference(model, InputShape);
        using var dequantized = new OnnxRuntimeReference(DequantizedOnnx.Rewrite(model, 8), InputShape);
        (Action<float[], float[]> floatBuild, Action<float[], float[]> quantized) = Builds(file);
        var scores = new float[10];
        for (int i = 0; i < TestDigits; i++)
        {
            foreach ((OnnxRuntimeReference reference, Action<float[], float[]> run, string build) in new[] { (exact, floatBuild, "float"), (dequantized, quantized, "8-bit") })
            {
                float[] expected = reference.Run(test.Images[i]);
                run(test.Images[i], scores);
                for (int k = 0; k < 10; k++)
                    Assert.True(Math.Abs(expected[k] - scores[k]) <= 1e-4 * Math.Max(1, Math.Abs(expected[k])), $"{file} {build}, digit {i}, class {k}: ONNX Runtime {expected[k]}, generated {scores[k]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void It_classifies_the_test_digits_as_trained(string file, double trained)
    {
        (_, MnistData test) = MnistData.Load(MnistData.DefaultPath());
        Action<float[], float[]> floatBuild = Builds(file).Float;
        var scores = new float[10];
        double accuracy = Enumerable.Range(0, test.Count).Count(i =>
        {
            floatBuild(test.Images[i], scores);
            return Qtaml.Plans.PlanCampaign.Decision(scores) == test.Labels[i];
        }) / (double)test.Count;
        // tools/Qtaml.Train prints the accuracy when it trains; the files are committed, so the figure is exact.
        Assert.InRange(accuracy, trained - 0.0005, trained + 0.0005);
    }
}
