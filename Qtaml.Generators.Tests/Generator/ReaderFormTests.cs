using System.Globalization;
using Google.Protobuf;
using Microsoft.CodeAnalysis;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// Forms of valid files that exporters and graph tools write and ONNX Runtime runs: nodes stored out of topological
/// order, If branches nested deeply. And a malformed one ONNX Runtime would misread: an attribute whose value sits in
/// the field of another type is a QTAML002, never read as 0.
/// </summary>
public class ReaderFormTests
{
    private static OnnxModelBuilder Mlp() => new OnnxModelBuilder(new long[] { 1, 6 }, seed: 5).Gemm(6, 8).Relu().Gemm(8, 4).Softmax();

    [Fact]
    public void Nodes_stored_in_reverse_order_compile_as_the_graph_says()
    {
        OnnxModelBuilder builder = Mlp();
        byte[] ordered = builder.Build(new long[] { 1, 4 });
        ModelProto model = ModelProto.Parser.ParseFrom(ordered);
        NodeProto[] reversed = model.Graph.Node.Reverse().ToArray();
        model.Graph.Node.Clear();
        model.Graph.Node.Add(reversed);
        byte[] shuffled = model.ToByteArray();

        OnnxRuntimeComparisonTests.AssertFloatBuildMatches(ordered, shuffled, builder.InputShape);
    }

    [Fact]
    public void Sparse_initializers_compile_as_the_dense_weights_they_stand_for()
    {
        // Every other weight of both Gemms zeroed; the first stored sparse with [NNZ, 2] coordinates, the second with
        // linear indices. ONNX Runtime runs the dense file.
        ModelProto dense = ModelProto.Parser.ParseFrom(Mlp().Build(new long[] { 1, 4 }));
        ModelProto sparse = dense.Clone();
        string[] weights = dense.Graph.Node.Where(n => n.OpType == "Gemm").Select(n => n.Input[1]).ToArray();
        for (int w = 0; w < weights.Length; w++)
        {
            TensorProto tensor = dense.Graph.Initializer.Single(t => t.Name == weights[w]);
            float[] values = tensor.RawData.Length > 0 ? Enumerable.Range(0, tensor.RawData.Length / 4).Select(i => BitConverter.ToSingle(tensor.RawData.Span.Slice(i * 4, 4))).ToArray() : tensor.FloatData.ToArray();
            for (int i = 0; i < values.Length; i += 2) values[i] = 0;
            tensor.RawData = ByteString.Empty;
            tensor.FloatData.Clear();
            tensor.FloatData.Add(values);
            var kept = Enumerable.Range(0, values.Length).Where(i => values[i] != 0).ToArray();
            var entry = new SparseTensorProto { Values = new TensorProto { Name = weights[w], DataType = 1 }, Indices = new TensorProto { Name = weights[w] + "_indices", DataType = 7 } };
            entry.Dims.Add(tensor.Dims);
            entry.Values.Dims.Add(kept.Length);
            entry.Values.FloatData.Add(kept.Select(i => values[i]));
            long columns = tensor.Dims[1];
            if (w == 0)
            {
                entry.Indices.Dims.Add(new long[] { kept.Length, 2 });
                entry.Indices.Int64Data.Add(kept.SelectMany(i => new[] { i / columns, i % columns }));
            }
            else
            {
                entry.Indices.Dims.Add(kept.Length);
                entry.Indices.Int64Data.Add(kept.Select(i => (long)i));
            }
            TensorProto stored = sparse.Graph.Initializer.Single(t => t.Name == weights[w]);
            sparse.Graph.Initializer.Remove(stored);
            sparse.Graph.SparseInitializer.Add(entry);
        }

        OnnxRuntimeComparisonTests.AssertFloatBuildMatches(dense.ToByteArray(), sparse.ToByteArray(), new long[] { 1, 6 });
    }

    [Fact]
    public void A_float_attribute_stored_in_the_int_field_is_QTAML002_naming_the_field()
    {
        OnnxModelBuilder builder = Mlp();
        ModelProto model = ModelProto.Parser.ParseFrom(builder.Build(new long[] { 1, 4 }));
        NodeProto gemm = model.Graph.Node.First(n => n.OpType == "Gemm");
        gemm.Attribute.Add(new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, I = 2 });

        var result = GeneratorHarness.Run(TestModels.Consumer("Models/model.onnx", ", Quantize = false"), new[] { GeneratorHarness.WeightFile("Models/model.onnx", model.ToByteArray()) });
        Diagnostic error = Assert.Single(result.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("QTAML002", error.Id);
        Assert.Contains("gives Gemm's attribute 'alpha' as FLOAT but stores its value in the i (INT) field", error.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }
}
