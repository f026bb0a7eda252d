using Google.Protobuf;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Generators.Tests.Support;
using Qtaml.Tools;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// If: a two-stage cascade whose second stage runs only when the first is unsure (a condition computed at run
/// time) agrees with ONNX Runtime on inputs that take either branch, float and 8-bit (the second stage's weights,
/// inside the branch, are quantized too); an If with a constant condition compiles only the branch it picks.
/// </summary>
public class ControlFlowTests
{
    private static readonly long[] InputShape = { 1, 10 };

    /// <summary>
    /// logits = Gemm(x); confident = max(softmax(logits)) > threshold; If confident: logits, else: logits + Gemm2(relu(Gemm1(x))).
    /// With <paramref name="constantCondition"/>, the condition is the constant instead.
    /// </summary>
    private static byte[] Cascade(float threshold, bool? constantCondition = null)
    {
        var b = new OnnxModelBuilder(InputShape, seed: 71).Gemm(10, 4, 0.8);
        string logits = b.Current;
        string condition = constantCondition is bool known
            ? BoolConstant(b, known)
            : b.Node("Softmax", Array.Empty<string>(), OnnxModelBuilder.Int("axis", 1))
                .Node("ReduceMax", Array.Empty<string>(), OnnxModelBuilder.Ints("axes", 1), OnnxModelBuilder.Int("keepdims", 0))
                .Node("Greater", new[] { b.Initializer("threshold", Array.Empty<long>(), new[] { threshold }) }).Current;

        var thenBranch = new GraphProto { Name = "confident" };
        var identity = new NodeProto { OpType = "Identity", Name = "keep" };
        identity.Input.Add(logits);
        identity.Output.Add("kept");
        thenBranch.Node.Add(identity);
        thenBranch.Output.Add(OnnxProto.Value("kept", new long?[] { 1, 4 }));

        var elseBranch = new GraphProto { Name = "second_stage" };
        var random = new Random(72);
        float[] Random(int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();
        OnnxProto.Tensor(elseBranch, "w1", new long[] { 16, 10 }, Random(160, 0.5));
        OnnxProto.Tensor(elseBranch, "w2", new long[] { 4, 16 }, Random(64, 0.5));
        elseBranch.Node.Add(Node("Gemm", new[] { "input", "w1" }, "hidden", OnnxModelBuilder.Int("transB", 1)));
        elseBranch.Node.Add(Node("Relu", new[] { "hidden" }, "active"));
        elseBranch.Node.Add(Node("Gemm", new[] { "active", "w2" }, "refined", OnnxModelBuilder.Int("transB", 1)));
        elseBranch.Node.Add(Node("Add", new[] { "refined", logits }, "corrected"));
        elseBranch.Output.Add(OnnxProto.Value("corrected", new long?[] { 1, 4 }));

        var branch = Node("If", new[] { condition }, "decided");
        branch.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = thenBranch });
        branch.Attribute.Add(new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = elseBranch });
        return b.Raw(branch).From("decided").Build(new long[] { 1, 4 });
    }

    private static string BoolConstant(OnnxModelBuilder b, bool value)
    {
        var node = new NodeProto { OpType = "Constant", Name = "fixed_condition" };
        node.Output.Add("fixed");
        var tensor = new TensorProto { DataType = 9 };
        tensor.Int32Data.Add(value ? 1 : 0);
        node.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = tensor });
        b.Raw(node);
        return "fixed";
    }

    private static NodeProto Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = output + "_node" };
        node.Input.Add(inputs);
        node.Output.Add(output);
        node.Attribute.Add(attributes);
        return node;
    }

    [Theory]
    [InlineData(", Quantize = false")]
    [InlineData(", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0")]
    public void A_cascade_with_a_data_dependent_If_matches_OnnxRuntime_on_both_branches(string arguments)
    {
        byte[] model = Cascade(threshold: 0.6f);
        byte[] reference = arguments.Contains("Bits", StringComparison.Ordinal) ? DequantizedOnnx.Rewrite(model, 8) : model;
        using var ort = new OnnxRuntimeReference(reference, InputShape);
        (Func<float[], float[]> run, var assembly) = OnnxRuntimeComparisonTests.Compile(model, arguments);
        int confident = 0;
        for (int seed = 0; seed < 40; seed++)
        {
            float[] x = TestModels.Input(10, seed).Select(v => 4 * v - 2).ToArray();
            float[] expected = ort.Run(x), actual = run(x);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"{arguments}, input {seed}, output {i}: ONNX Runtime {expected[i]}, generated {actual[i]}");
            double[] logits = expected.Select(v => (double)v).ToArray();
            double max = logits.Max(), sum = logits.Sum(v => Math.Exp(v - max));
            if (1 / sum > 0.6) confident++;
        }
        // Both branches were exercised (by ONNX Runtime's own decision on the same logits).
        Assert.InRange(confident, 1, 39);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_If_with_a_constant_condition_compiles_only_the_branch_it_takes(bool condition)
    {
        byte[] model = Cascade(0.6f, condition);
        var result = GeneratorHarness.Run(TestModels.Consumer("Models/model.onnx", ", Quantize = false"), new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        Assert.Empty(result.GeneratorDiagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
        Assert.Equal(condition ? 0 : 2, System.Text.RegularExpressions.Regex.Count(result.Source, @"// hidden_node|// refined_node"));
        Assert.DoesNotContain("Where", result.Source, StringComparison.Ordinal);
        using var ort = new OnnxRuntimeReference(model, InputShape);
        (Func<float[], float[]> run, _) = OnnxRuntimeComparisonTests.Compile(model, ", Quantize = false");
        float[] x = TestModels.Input(10, 5);
        float[] expected = ort.Run(x), actual = run(x);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"output {i}: ONNX Runtime {expected[i]}, generated {actual[i]}");
    }
}
