extern alias gen;
using Qtaml.Data;
using Qtaml.Generators.Tests.Generator;
using Qtaml.Generators.Tests.Support;
using NetworkGraph = gen::Qtaml.Generators.Network.NetworkGraph;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;
using ReferenceEvaluator = gen::Qtaml.Generators.Calibration.ReferenceEvaluator;

namespace Qtaml.Generators.Tests.Calibration;

/// <summary>
/// The build's float reference evaluator (what calibration runs) computes what ONNX Runtime computes: on every
/// operator of the comparison suite and on the sample models with real digits, within 1e-4 of the larger of 1 and
/// the value (ONNX Runtime computes in float32, the evaluator in double).
/// </summary>
public class ReferenceEvaluatorTests
{
    public static TheoryData<string> Operators => OperatorComparisonTests.Operators;

    private static float[] Evaluate(NetworkGraph graph, float[] input)
    {
        double[][] values = new ReferenceEvaluator(graph).Run(input.Select(v => (double)v).ToArray());
        return values[graph.OutputValue].Select(v => (float)v).ToArray();
    }

    private static void AssertAgree(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"{what}, output {i}: ONNX Runtime {expected[i]}, reference evaluator {actual[i]}");
    }

    [Theory]
    [MemberData(nameof(Operators))]
    public void Matches_OnnxRuntime_on_every_compared_operator(string op)
    {
        (byte[] model, _) = OperatorComparisonTests.Build(op);
        NetworkGraph graph = OnnxReader.Read("model.onnx", model);
        using var reference = new OnnxRuntimeReference(model, new long[] { 1, 4, 6, 6 });
        for (int seed = 0; seed < 4; seed++)
        {
            float[] input = TestModels.Input(4 * 36, seed).Select(v => 2 * v - 1).ToArray();
            AssertAgree(op + ", input " + seed, reference.Run(input), Evaluate(graph, input));
        }
    }

    [Theory]
    [InlineData("digits-mlp.onnx", new long[] { 1, 784 })]
    [InlineData("digits-cnn.onnx", new long[] { 1, 1, 28, 28 })]
    [InlineData("digits-transformer.onnx", new long[] { 1, 28, 28 })]
    [InlineData("digits-separable.onnx", new long[] { 1, 1, 28, 28 })]
    public void Matches_OnnxRuntime_on_the_sample_models_with_real_digits(string file, long[] shape)
    {
        byte[] model = File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", file));
        NetworkGraph graph = OnnxReader.Read(file, model);
        using var reference = new OnnxRuntimeReference(model, shape);
        (_, MnistData test) = MnistData.Load(MnistData.DefaultPath());
        for (int i = 0; i < 20; i++) AssertAgree(file + ", digit " + i, reference.Run(test.Images[i]), Evaluate(graph, test.Images[i]));
    }
}
