using Microsoft.CodeAnalysis;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// A model that declares float64 inputs and outputs is computed in float32, as every model is, and the build says
/// so (QTAML030, information, naming the ports) rather than refusing a file ONNX Runtime runs. The ONNX backend's
/// float64 tests (docs/conformance.md) hold the values against the test data.
/// </summary>
public class Float64ModelTests
{
    [Fact]
    public void A_float64_model_compiles_in_float32_and_QTAML030_names_its_float64_ports()
    {
        var b = new OnnxModelBuilder(new long[] { 1, 4 }, seed: 3).WithInputType(11);
        b.Raw(new NodeProto { OpType = "Add", Name = "twice", Input = { "input", "input" }, Output = { "sum" } }).From("sum");
        b.Build(new long[] { 1, 4 });
        byte[] model = b.WithOutputType(11).Serialize();

        var result = GeneratorHarness.Run(TestModels.Consumer("Models/model.onnx", ", Quantize = false"), new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        Assert.DoesNotContain(result.GeneratorDiagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Diagnostic info = Assert.Single(result.GeneratorDiagnostics, d => d.Id == "QTAML030");
        Assert.Equal(DiagnosticSeverity.Info, info.Severity);
        Assert.StartsWith("The model declares 'input', 'sum' float64; Qtaml computes it in float32", info.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

        (Func<float[], float[]> run, _) = OnnxRuntimeComparisonTests.Compile(model, ", Quantize = false");
        Assert.Equal(new[] { 2f, -1f, 0.5f, 6e6f }, run(new[] { 1f, -0.5f, 0.25f, 3e6f }));
    }
}
