using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// Integer graph inputs as token ids: an int64 or int32 input read by a Gather of a constant table is an embedding
/// lookup at run time. The generated Run takes the ids as a span of long (or int), or as whole floats in the
/// float-span Run; it checks each against the table (negative ids count from the end, as ONNX says; anything else
/// throws), and matches ONNX Runtime float and 8-bit. An integer input that feeds anything else would be integer
/// arithmetic done in float32: QTAML004, and the class that failed still declares the typed Run, so a caller's
/// code adds no error of its own.
/// </summary>
public class IntegerInputTests
{
    private const int Rows = 10, Width = 4;

    /// <summary>ids [2, 3] → Gather(table [10, 4]) → [2, 3, 4] → Flatten → [2, 12] → Gemm → [2, 5].</summary>
    private static byte[] Model(int elemType = 7, string reader = "Gather")
    {
        var b = new OnnxModelBuilder(new long[] { 2, 3 }, seed: 5).WithInputType(elemType);
        string table = b.Initializer("table", new long[] { Rows, Width }, b.RandomTensor(Rows * Width, 0.8));
        if (reader == "Gather") b.Raw(new NodeProto { OpType = "Gather", Name = "lookup", Input = { table, "input" }, Output = { "rows" } }).From("rows").Flatten().Gemm(12, 5, 0.4);
        else b.Raw(new NodeProto { OpType = "Add", Name = "shift", Input = { "input", "input" }, Output = { "sum" } }).From("sum");
        return b.Build(reader == "Gather" ? new long[] { 2, 5 } : new long[] { 2, 3 });
    }

    /// <summary>ids [2, 3] of <paramref name="elemType"/> and features x [2, 5] → Concat(Flatten(Gather(table, ids)), x) → Gemm → [2, 5].</summary>
    private static byte[] TwoInputModel(int elemType = 7)
    {
        var b = new OnnxModelBuilder(new long[] { 2, 3 }, seed: 6).WithInputType(elemType);
        string table = b.Initializer("table", new long[] { Rows, Width }, b.RandomTensor(Rows * Width, 0.8));
        string features = b.AddInput("x", new long[] { 2, 5 });
        b.Raw(new NodeProto { OpType = "Gather", Name = "lookup", Input = { table, "input" }, Output = { "rows" } }).From("rows").Flatten()
            .Node("Concat", new[] { features }, OnnxModelBuilder.Int("axis", 1)).Gemm(17, 5, 0.4);
        return b.Build(new long[] { 2, 5 });
    }

    /// <summary>A consumer whose harness calls the typed Run: with a span of long (or int) ids, and features for the two-input model.</summary>
    private static string TypedConsumer(string arguments, string idType, bool twoInputs) => $$"""
        namespace Models
        {
            [global::Qtaml.TunnelingCompensated("Models/model.onnx"{{arguments}})]
            public static partial class Model { }

            public static class TypedHarness
            {
                public static void Run({{idType}}[] ids, float[] features, float[] output) => Model.Run(ids{{(twoInputs ? ", features" : "")}}, output);
            }
        }
        """;

    private static Action<Array, float[], float[]> CompileTyped(byte[] model, string arguments, string idType, bool twoInputs)
    {
        var result = GeneratorHarness.Run(TypedConsumer(arguments, idType, twoInputs), new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        Assert.Empty(result.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error));
        MethodInfo run = GeneratorHarness.CompileAndLoad(result.Output).GetType("Models.TypedHarness")!.GetMethod("Run")!;
        return (ids, features, output) =>
        {
            try { run.Invoke(null, new object[] { ids, features, output }); }
            catch (TargetInvocationException e) when (e.InnerException is not null) { throw e.InnerException; }
        };
    }

    private static float[] OnnxRuntime(byte[] model, long[] ids, float[]? features = null, bool int32 = false)
    {
        using var session = new InferenceSession(model);
        var feeds = new List<NamedOnnxValue>
        {
            int32 ? NamedOnnxValue.CreateFromTensor("input", new DenseTensor<int>(ids.Select(i => (int)i).ToArray(), new[] { 2, 3 }))
                  : NamedOnnxValue.CreateFromTensor("input", new DenseTensor<long>(ids, new[] { 2, 3 })),
        };
        if (features is not null) feeds.Add(NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(features, new[] { 2, 5 })));
        using var results = session.Run(feeds);
        return results[0].AsEnumerable<float>().ToArray();
    }

    [Theory]
    [InlineData(", Quantize = false", 7, false)]
    [InlineData(", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0", 7, false)]
    [InlineData(", Quantize = false", 6, false)]
    [InlineData(", Quantize = false", 7, true)]
    [InlineData(", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0", 6, true)]
    public void The_typed_Run_takes_the_ids_as_integers_and_matches_ONNX_Runtime(string arguments, int elemType, bool twoInputs)
    {
        byte[] model = twoInputs ? TwoInputModel(elemType) : Model(elemType);
        byte[] reference = arguments.Contains("Bits = 8", StringComparison.Ordinal) ? DequantizedOnnx.Rewrite(model, 8) : model;
        string idType = elemType == 6 ? "int" : "long";
        Action<Array, float[], float[]> run = CompileTyped(model, arguments, idType, twoInputs);
        float[] features = { 0.5f, -1f, 0.25f, 2f, -0.75f, 1f, 0f, -0.5f, 1.5f, -2f };
        foreach (long[] ids in new[] { new long[] { 0, 3, 9, 9, 1, 2 }, new long[] { -1, -10, 4, 5, 6, 7 } })
        {
            float[] expected = OnnxRuntime(reference, ids, twoInputs ? features : null, int32: elemType == 6), actual = new float[10];
            run(elemType == 6 ? ids.Select(i => (int)i).ToArray() : ids, features, actual);
            double scale = expected.Max(Math.Abs);
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * scale, $"output {i}: {actual[i]} against {expected[i]}");
        }
    }

    [Theory]
    [InlineData(10L)]
    [InlineData(-11L)]
    [InlineData(16777217L)]
    [InlineData(1L << 40)]
    [InlineData(long.MinValue)]
    public void A_long_id_that_is_not_a_row_throws(long id)
    {
        Action<Array, float[], float[]> run = CompileTyped(Model(), ", Quantize = false", "long", twoInputs: false);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => run(new[] { 0L, 1L, id, 3L, 4L, 5L }, Array.Empty<float>(), new float[10]));
        Assert.Contains("not a row", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failed_integer_model_still_declares_its_typed_Run_so_the_callers_code_adds_no_error()
    {
        var result = GeneratorHarness.Run(TypedConsumer("", "long", twoInputs: false), new[] { GeneratorHarness.WeightFile("Models/model.onnx", Model(reader: "Add")) });
        Diagnostic error = Assert.Single(result.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("QTAML004", error.Id);
        Assert.Empty(result.Output.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error));
    }

    private static float[] OnnxRuntime(byte[] model, long[] ids)
    {
        using var session = new InferenceSession(model);
        var feeds = new[] { NamedOnnxValue.CreateFromTensor("input", new DenseTensor<long>(ids, new[] { 2, 3 })) };
        using var results = session.Run(feeds);
        return results[0].AsEnumerable<float>().ToArray();
    }

    [Theory]
    [InlineData(", Quantize = false", 1e-5)]
    [InlineData(", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0", 1e-5)]
    public void Token_ids_pick_the_tables_rows_as_ONNX_Runtime_does_negative_ones_from_the_end(string arguments, double tolerance)
    {
        byte[] model = Model();
        byte[] reference = arguments.Contains("Bits = 8", StringComparison.Ordinal) ? DequantizedOnnx.Rewrite(model, 8) : model;
        (Func<float[], float[]> run, _) = OnnxRuntimeComparisonTests.Compile(model, arguments);
        foreach (long[] ids in new[] { new long[] { 0, 3, 9, 9, 1, 2 }, new long[] { -1, -10, 4, 5, 6, 7 } })
        {
            float[] expected = OnnxRuntime(reference, ids), actual = run(ids.Select(i => (float)i).ToArray());
            double scale = expected.Max(Math.Abs);
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale, $"output {i}: {actual[i]} against {expected[i]}");
        }
    }

    [Theory]
    [InlineData(10f)]
    [InlineData(-11f)]
    [InlineData(2.5f)]
    [InlineData(float.NaN)]
    [InlineData(3e9f)]
    public void An_id_that_is_not_a_row_throws_before_anything_is_read(float id)
    {
        (Func<float[], float[]> run, _) = OnnxRuntimeComparisonTests.Compile(Model(), ", Quantize = false");
        var thrown = Assert.Throws<TargetInvocationException>(() => run(new[] { 0f, 1f, id, 3f, 4f, 5f }));
        var error = Assert.IsType<ArgumentOutOfRangeException>(thrown.InnerException);
        Assert.Contains("not a row of the 10-row embedding table", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_integer_input_that_feeds_arithmetic_is_refused_with_QTAML004()
    {
        var result = GeneratorHarness.Run(TestModels.Consumer("Models/model.onnx", ""), new[] { GeneratorHarness.WeightFile("Models/model.onnx", Model(reader: "Add")) });
        Diagnostic error = Assert.Single(result.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("QTAML004", error.Id);
        Assert.Contains("'input'", error.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }
}
