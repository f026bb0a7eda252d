extern alias gen;
using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Qtaml.Calibration;
using Qtaml.Generators.Tests.Support;
using CalibrationProfile = gen::Qtaml.Generators.Calibration.CalibrationProfile;
using NpyReader = gen::Qtaml.Generators.Calibration.NpyReader;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// A model with several inputs and outputs (a streaming cell's state in and out): the generated Run takes one span
/// per input and output, named after them, and the concatenated Run of <c>ICompiledModel</c> agrees with it; both
/// match ONNX Runtime, including an output that is a graph input returned as it is.
/// </summary>
public class MultiPortTests
{
    /// <summary>features [1, 6] and state [1, 4] in; logits = Gemm(features) + Gemm(state), new_state = tanh(logits), and the state itself, out.</summary>
    private static byte[] Model() => ModelAndOutputs().Model;

    private static (byte[] Model, string[] Outputs) ModelAndOutputs()
    {
        var b = new OnnxModelBuilder(new long[] { 1, 6 }, seed: 41);
        string state = b.AddInput("state", new long[] { 1, 4 });
        string fromFeatures = b.Gemm(6, 4).Current;
        string fromState = b.From(state).Gemm(4, 4).Current;
        string logits = b.From(fromFeatures).Node("Add", new[] { fromState }).Current;
        string next = b.Node("Tanh", Array.Empty<string>()).Current;
        return (b.Build(new[] { (logits, new long[] { 1, 4 }), (next, new long[] { 1, 4 }), (state, new long[] { 1, 4 }) }), new[] { logits, next, state });
    }

    private const string Consumer = """
        namespace Models
        {
            [global::Qtaml.TunnelingCompensated("Models/model.onnx", Quantize = false)]
            public static partial class Model { }

            public static class Harness
            {
                public static void Named(float[] input, float[] state, float[] a, float[] b, float[] c) => Model.Run(input, state, a, b, c);
                public static void Concatenated(float[] input, float[] output) => Model.Run(input, output);
                public static string Names => string.Join(",", Model.InputNames) + ";" + string.Join(",", Model.OutputNames);
                public static string Lengths => string.Join(",", Model.InputLengths.ToArray()) + ";" + string.Join(",", Model.OutputLengths.ToArray());
            }
        }
        """;

    [Fact]
    public void A_model_that_fails_still_declares_its_named_members_so_the_build_shows_one_error()
    {
        // The same two-input model with an operator Qtaml does not compile: the user's calls of the named Run,
        // InputNames and InputLengths still resolve, so the build's only error is the generator's.
        var b = new OnnxModelBuilder(new long[] { 1, 6 }, seed: 41);
        string state = b.AddInput("state", new long[] { 1, 4 });
        string logits = b.Gemm(6, 4).Node("Add", new[] { b.From(state).Gemm(4, 4).Current }).Current;
        string odd = b.From(logits).Node("Det", Array.Empty<string>()).Current;
        byte[] model = b.Build(new[] { (logits, new long[] { 1, 4 }), (odd, new long[] { 1, 4 }), (state, new long[] { 1, 4 }) });
        var result = GeneratorHarness.Run(Consumer, new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        var error = Assert.Single(result.GeneratorDiagnostics, d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        Assert.Equal("QTAML003", error.Id);
        Assert.Empty(result.Output.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
    }

    [Fact]
    public void Named_and_concatenated_runs_match_OnnxRuntime_for_every_output()
    {
        (byte[] model, string[] outputs) = ModelAndOutputs();
        var result = GeneratorHarness.Run(Consumer, new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        Assert.Empty(result.GeneratorDiagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
        Type harness = GeneratorHarness.CompileAndLoad(result.Output).GetType("Models.Harness")!;
        Assert.Equal("input,state;" + string.Join(",", outputs), (string)harness.GetProperty("Names")!.GetValue(null)!);
        Assert.Equal("6,4;4,4,4", (string)harness.GetProperty("Lengths")!.GetValue(null)!);

        using var session = new InferenceSession(model);
        for (int seed = 0; seed < 5; seed++)
        {
            float[] features = TestModels.Input(6, seed), state = TestModels.Input(4, seed + 100).Select(v => 2 * v - 1).ToArray();
            using var expected = session.Run(new[]
            {
                NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(features, new[] { 1, 6 })),
                NamedOnnxValue.CreateFromTensor("state", new DenseTensor<float>(state, new[] { 1, 4 })),
            });
            float[][] reference = expected.Select(r => r.AsTensor<float>().ToArray()).ToArray();

            float[][] named = { new float[4], new float[4], new float[4] };
            harness.GetMethod("Named")!.Invoke(null, new object[] { features, state, named[0], named[1], named[2] });
            var concatenated = new float[12];
            harness.GetMethod("Concatenated")!.Invoke(null, new object[] { features.Concat(state).ToArray(), concatenated });
            for (int o = 0; o < 3; o++)
                for (int i = 0; i < 4; i++)
                {
                    Assert.True(Math.Abs(reference[o][i] - named[o][i]) <= 1e-5, $"output {o}[{i}]: ONNX Runtime {reference[o][i]}, named Run {named[o][i]}");
                    Assert.Equal(named[o][i], concatenated[o * 4 + i]);
                }
        }
    }

    [Fact]
    public void A_span_of_the_wrong_length_is_refused_with_the_name_of_its_input()
    {
        var result = GeneratorHarness.Run(Consumer, new[] { GeneratorHarness.WeightFile("Models/model.onnx", Model()) });
        MethodInfo named = GeneratorHarness.CompileAndLoad(result.Output).GetType("Models.Harness")!.GetMethod("Named")!;
        var error = Assert.Throws<TargetInvocationException>(() => named.Invoke(null, new object[] { new float[6], new float[3], new float[4], new float[4], new float[4] }));
        var argument = Assert.IsType<ArgumentException>(error.InnerException);
        Assert.Equal("state", argument.ParamName);
        Assert.Contains("'state' must hold 4 values; it holds 3", argument.Message, StringComparison.Ordinal);
    }

    /// <summary>Rows of features and state together ([N, 6 + 4], as the concatenated Run takes them), the state in [-3, 3] so it moves decisions.</summary>
    private static float[] CalibrationRows(int rows) =>
        Enumerable.Range(0, rows).SelectMany(r => TestModels.Input(6, 300 + r).Concat(TestModels.Input(4, 600 + r).Select(v => 6 * v - 3))).ToArray();

    [Fact]
    public void A_model_of_several_inputs_is_calibrated_on_rows_holding_every_input()
    {
        byte[] model = Model();
        const int Rows = 64;
        float[] rows = CalibrationRows(Rows);
        // The profile's decisions are the float network's on every input of each row: the state is read, not left at zero.
        var graph = OnnxReader.Read("model.onnx", model);
        var profile = CalibrationProfile.Measure(graph, NpyReader.Read(NpyFile.ToBytes(rows, Rows, 10), Rows), CancellationToken.None);
        var result = GeneratorHarness.Run(Consumer, new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        Type harness = GeneratorHarness.CompileAndLoad(result.Output).GetType("Models.Harness")!;
        int changedByState = 0;
        for (int r = 0; r < Rows; r++)
        {
            float[] row = rows.AsSpan(r * 10, 10).ToArray(), output = new float[12], stateless = new float[12];
            harness.GetMethod("Concatenated")!.Invoke(null, new object[] { row, output });
            harness.GetMethod("Concatenated")!.Invoke(null, new object[] { row.Take(6).Concat(new float[4]).ToArray(), stateless });
            int Decision(float[] y) => Array.IndexOf(y, y.Take(4).Max());
            Assert.Equal(Decision(output), Assert.Single(profile.Decisions[r]));
            if (Decision(stateless) != Decision(output)) changedByState++;
        }
        Assert.True(changedByState > 0, "the state should change some decisions, or this test could not tell it was read");

        // A build calibrated on such rows forecasts; a row that holds only the first input is refused, naming every input.
        string calibrated = Consumer.Replace("Quantize = false", "Node = \"2nm\", EccBudget = 1.0, Calibration = \"Models/rows.npy\"", StringComparison.Ordinal);
        var built = GeneratorHarness.Run(calibrated, new[] { GeneratorHarness.WeightFile("Models/model.onnx", model), GeneratorHarness.WeightFile("Models/rows.npy", NpyFile.ToBytes(rows, Rows, 10)) });
        Assert.DoesNotContain(built.GeneratorDiagnostics, d => d.Id == "QTAML026");
        var info = (ModelInfo)GeneratorHarness.CompileAndLoad(built.Output).GetType("Models.Model")!.GetProperty("Info")!.GetValue(null)!;
        Assert.Equal(Rows, info.Forecast!.Samples);
        float[] firstOnly = Enumerable.Range(0, Rows).SelectMany(r => TestModels.Input(6, 300 + r)).ToArray();
        var refused = GeneratorHarness.Run(calibrated, new[] { GeneratorHarness.WeightFile("Models/model.onnx", model), GeneratorHarness.WeightFile("Models/rows.npy", NpyFile.ToBytes(firstOnly, Rows, 6)) });
        var diagnostic = Assert.Single(refused.GeneratorDiagnostics, d => d.Id == "QTAML026");
        Assert.Contains("2 inputs input [1, 6], state [1, 4] have 10 together; save an array of shape [N, 10]", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }
}
