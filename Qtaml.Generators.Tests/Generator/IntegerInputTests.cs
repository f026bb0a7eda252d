using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// Integer graph inputs as token ids: an int64 input read by a Gather of a constant table is an embedding lookup at
/// run time. The generated Run takes the ids as whole floats (exact up to 2^24), checks each against the table
/// (negative ids count from the end, as ONNX says; anything else throws), and matches ONNX Runtime float and 8-bit.
/// An integer input that feeds anything else would be integer arithmetic done in float32: QTAML004.
/// </summary>
public class IntegerInputTests
{
    private const int Rows = 10, Width = 4;

    /// <summary>ids [2, 3] → Gather(table [10, 4]) → [2, 3, 4] → Flatten → [2, 12] → Gemm → [2, 5].</summary>
    private static byte[] Model(string reader = "Gather")
    {
        var b = new OnnxModelBuilder(new long[] { 2, 3 }, seed: 5).WithInt64Input();
        string table = b.Initializer("table", new long[] { Rows, Width }, b.RandomTensor(Rows * Width, 0.8));
        if (reader == "Gather") b.Raw(new NodeProto { OpType = "Gather", Name = "lookup", Input = { table, "input" }, Output = { "rows" } }).From("rows").Flatten().Gemm(12, 5, 0.4);
        else b.Raw(new NodeProto { OpType = "Add", Name = "shift", Input = { "input", "input" }, Output = { "sum" } }).From("sum");
        return b.Build(reader == "Gather" ? new long[] { 2, 5 } : new long[] { 2, 3 });
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
        var result = GeneratorHarness.Run(TestModels.Consumer("Models/model.onnx", ""), new[] { GeneratorHarness.WeightFile("Models/model.onnx", Model("Add")) });
        Diagnostic error = Assert.Single(result.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("QTAML004", error.Id);
        Assert.Contains("'input'", error.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }
}
