using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Generators.Tests.Support;
using Qtaml.Tools;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// A one-layer LSTM (and GRU) step with its state in and out, as a streaming keyword spotter runs it: the state a
/// step returns is fed to the next, for several steps, and every output agrees with ONNX Runtime doing the same,
/// float and 8-bit (the cell's W and R are quantized like any weight).
/// </summary>
public class RecurrentCellTests
{
    private const int Inputs = 6, Hidden = 5, Steps = 6;

    /// <summary>x [1, 1, 6], h [1, 1, 5] (and c for an LSTM) in; Y_h (and Y_c) out.</summary>
    private static byte[] Cell(string op, int linearBeforeReset = 0)
    {
        bool lstm = op == "LSTM";
        int gates = lstm ? 4 : 3;
        var graph = new GraphProto { Name = "cell" };
        graph.Input.Add(OnnxProto.Value("x", new long?[] { 1, 1, Inputs }));
        graph.Input.Add(OnnxProto.Value("h", new long?[] { 1, 1, Hidden }));
        if (lstm) graph.Input.Add(OnnxProto.Value("c", new long?[] { 1, 1, Hidden }));
        var random = new Random(81);
        float[] Random(int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();
        OnnxProto.Tensor(graph, "W", new long[] { 1, gates * Hidden, Inputs }, Random(gates * Hidden * Inputs, 0.6));
        OnnxProto.Tensor(graph, "R", new long[] { 1, gates * Hidden, Hidden }, Random(gates * Hidden * Hidden, 0.6));
        OnnxProto.Tensor(graph, "B", new long[] { 1, 2 * gates * Hidden }, Random(2 * gates * Hidden, 0.3));
        var node = new NodeProto { OpType = op, Name = "cell" };
        node.Input.Add(lstm ? new[] { "x", "W", "R", "B", "", "h", "c" } : new[] { "x", "W", "R", "B", "", "h" });
        node.Output.Add(lstm ? new[] { "", "h_next", "c_next" } : new[] { "", "h_next" });
        node.Attribute.Add(OnnxModelBuilder.Int("hidden_size", Hidden));
        if (!lstm) node.Attribute.Add(OnnxModelBuilder.Int("linear_before_reset", linearBeforeReset));
        graph.Node.Add(node);
        graph.Output.Add(OnnxProto.Value("h_next", new long?[] { 1, 1, Hidden }));
        if (lstm) graph.Output.Add(OnnxProto.Value("c_next", new long?[] { 1, 1, Hidden }));
        return OnnxProto.Model(graph, "qtaml-tests", 14);
    }

    private static string Consumer(bool lstm, string arguments) => $$"""
        namespace Models
        {
            [global::Qtaml.TunnelingCompensated("Models/model.onnx"{{arguments}})]
            public static partial class Model { }

            public static class Harness
            {
                public static void Step(float[] x, float[] h, float[] c, float[] hNext, float[] cNext) => {{(lstm ? "Model.Run(x, h, c, hNext, cNext)" : "Model.Run(x, h, hNext)")}};
            }
        }
        """;

    [Theory]
    [InlineData("LSTM", 0, ", Quantize = false")]
    [InlineData("LSTM", 0, ", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0")]
    [InlineData("GRU", 0, ", Quantize = false")]
    [InlineData("GRU", 1, ", Quantize = false")]
    [InlineData("GRU", 1, ", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0")]
    public void A_cell_run_a_step_at_a_time_with_its_state_fed_back_matches_OnnxRuntime(string op, int linearBeforeReset, string arguments)
    {
        bool lstm = op == "LSTM";
        byte[] model = Cell(op, linearBeforeReset);
        byte[] reference = arguments.Contains("Bits", StringComparison.Ordinal) ? DequantizedOnnx.Rewrite(model, 8) : model;
        var result = GeneratorHarness.Run(Consumer(lstm, arguments), new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        Assert.Empty(result.GeneratorDiagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
        MethodInfo step = GeneratorHarness.CompileAndLoad(result.Output).GetType("Models.Harness")!.GetMethod("Step")!;
        using var session = new InferenceSession(reference);

        float[] h = new float[Hidden], c = new float[Hidden], hOrt = new float[Hidden], cOrt = new float[Hidden];
        for (int t = 0; t < Steps; t++)
        {
            float[] x = TestModels.Input(Inputs, 10 + t).Select(v => 3 * v - 1.5f).ToArray();
            var feeds = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, new[] { 1, 1, Inputs })),
                NamedOnnxValue.CreateFromTensor("h", new DenseTensor<float>(hOrt, new[] { 1, 1, Hidden })),
            };
            if (lstm) feeds.Add(NamedOnnxValue.CreateFromTensor("c", new DenseTensor<float>(cOrt, new[] { 1, 1, Hidden })));
            using (var outputs = session.Run(feeds))
            {
                hOrt = outputs.First(o => o.Name == "h_next").AsTensor<float>().ToArray();
                if (lstm) cOrt = outputs.First(o => o.Name == "c_next").AsTensor<float>().ToArray();
            }
            float[] hNext = new float[Hidden], cNext = new float[Hidden];
            step.Invoke(null, new object[] { x, h, c, hNext, cNext });
            (h, c) = (hNext, lstm ? cNext : c);
            for (int i = 0; i < Hidden; i++)
            {
                Assert.True(Math.Abs(hOrt[i] - h[i]) <= 1e-5, $"{op}{arguments}, step {t}, h[{i}]: ONNX Runtime {hOrt[i]}, generated {h[i]}");
                if (lstm) Assert.True(Math.Abs(cOrt[i] - c[i]) <= 1e-5, $"{op}{arguments}, step {t}, c[{i}]: ONNX Runtime {cOrt[i]}, generated {c[i]}");
            }
        }
        Assert.Contains(h, v => Math.Abs(v) > 0.05f);   // the state moved: the test would see a cell that ignored it
    }

    /// <summary>x [steps, batch, 6], h [1, batch, 5] (and c) in; Y [steps, 1, batch, 5], Y_h (and Y_c) out.</summary>
    private static byte[] Sequence(string op, int steps, int batch, string direction)
    {
        bool lstm = op == "LSTM";
        int gates = lstm ? 4 : 3;
        var graph = new GraphProto { Name = "sequence" };
        graph.Input.Add(OnnxProto.Value("x", new long?[] { steps, batch, Inputs }));
        graph.Input.Add(OnnxProto.Value("h", new long?[] { 1, batch, Hidden }));
        if (lstm) graph.Input.Add(OnnxProto.Value("c", new long?[] { 1, batch, Hidden }));
        var random = new Random(82);
        float[] Random(int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();
        OnnxProto.Tensor(graph, "W", new long[] { 1, gates * Hidden, Inputs }, Random(gates * Hidden * Inputs, 0.6));
        OnnxProto.Tensor(graph, "R", new long[] { 1, gates * Hidden, Hidden }, Random(gates * Hidden * Hidden, 0.6));
        OnnxProto.Tensor(graph, "B", new long[] { 1, 2 * gates * Hidden }, Random(2 * gates * Hidden, 0.3));
        var node = new NodeProto { OpType = op, Name = "sequence" };
        node.Input.Add(lstm ? new[] { "x", "W", "R", "B", "", "h", "c" } : new[] { "x", "W", "R", "B", "", "h" });
        node.Output.Add(lstm ? new[] { "y", "h_last", "c_last" } : new[] { "y", "h_last" });
        node.Attribute.Add(OnnxModelBuilder.Int("hidden_size", Hidden));
        node.Attribute.Add(OnnxModelBuilder.String("direction", direction));
        graph.Node.Add(node);
        graph.Output.Add(OnnxProto.Value("y", new long?[] { steps, 1, batch, Hidden }));
        graph.Output.Add(OnnxProto.Value("h_last", new long?[] { 1, batch, Hidden }));
        if (lstm) graph.Output.Add(OnnxProto.Value("c_last", new long?[] { 1, batch, Hidden }));
        return OnnxProto.Model(graph, "qtaml-tests", 14);
    }

    [Theory]
    [InlineData("LSTM", "forward", ", Quantize = false")]
    [InlineData("LSTM", "reverse", ", Quantize = false")]
    [InlineData("LSTM", "forward", ", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0")]
    [InlineData("GRU", "forward", ", Quantize = false")]
    [InlineData("GRU", "reverse", ", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0")]
    public void A_pinned_sequence_of_several_samples_matches_OnnxRuntime_at_every_step(string op, string direction, string arguments)
    {
        const int SequenceSteps = 4, Batch = 2;
        bool lstm = op == "LSTM";
        byte[] model = Sequence(op, SequenceSteps, Batch, direction);
        byte[] reference = arguments.Contains("Bits", StringComparison.Ordinal) ? DequantizedOnnx.Rewrite(model, 8) : model;
        (Func<float[], float[]> run, _) = OnnxRuntimeComparisonTests.Compile(model, arguments);
        using var session = new InferenceSession(reference);
        for (int seed = 0; seed < 3; seed++)
        {
            float[] x = TestModels.Input(SequenceSteps * Batch * Inputs, 20 + seed).Select(v => 3 * v - 1.5f).ToArray();
            float[] h = TestModels.Input(Batch * Hidden, 40 + seed).Select(v => v - 0.5f).ToArray();
            float[] c = TestModels.Input(Batch * Hidden, 60 + seed).Select(v => v - 0.5f).ToArray();
            var feeds = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, new[] { SequenceSteps, Batch, Inputs })),
                NamedOnnxValue.CreateFromTensor("h", new DenseTensor<float>(h, new[] { 1, Batch, Hidden })),
            };
            if (lstm) feeds.Add(NamedOnnxValue.CreateFromTensor("c", new DenseTensor<float>(c, new[] { 1, Batch, Hidden })));
            using var outputs = session.Run(feeds);
            float[] expected = outputs.SelectMany(o => o.AsTensor<float>()).ToArray();
            float[] actual = run(lstm ? x.Concat(h).Concat(c).ToArray() : x.Concat(h).ToArray());
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"{op} {direction}{arguments}, input {seed}, output {i}: ONNX Runtime {expected[i]}, generated {actual[i]}");
        }
    }
}
