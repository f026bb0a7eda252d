extern alias gen;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Generators.Tests.Generator;
using Qtaml.Generators.Tests.Support;
using KernelProgram = gen::Qtaml.Generators.Lowering.KernelProgram;
using NetworkGraph = gen::Qtaml.Generators.Network.NetworkGraph;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;
using OperatorCatalog = gen::Qtaml.Generators.Onnx.OperatorCatalog;
using OperatorDefinition = gen::Qtaml.Generators.Onnx.OperatorDefinition;
using ProgramCompiler = gen::Qtaml.Generators.Lowering.ProgramCompiler;
using ProgramVerifier = gen::Qtaml.Generators.Lowering.ProgramVerifier;
using ReferenceEvaluator = gen::Qtaml.Generators.Calibration.ReferenceEvaluator;

namespace Qtaml.Generators.Tests.Conformance;

/// <summary>
/// One operator, one place: every operator of the generator's catalog has a reader, lowers to kernels, is evaluated
/// by the double-precision reference evaluator that calibration runs, and is compared with ONNX Runtime. The
/// comparison is <see cref="OperatorComparisonTests"/> (float and 8-bit builds against ONNX Runtime, every case with
/// AVX-512 and AVX2 off too in .ci/run) and <c>ReferenceEvaluatorTests</c> (the same cases through the evaluator):
/// an operator added to the catalog without a case there fails here, by name.
/// </summary>
public class OperatorCatalogCoverageTests
{
    public static TheoryData<string> Catalog => new(OperatorCatalog.All.Select(o => o.Name));

    /// <summary>Every comparison case, with the operators its model uses (If branches included).</summary>
    private static readonly Lazy<Dictionary<string, HashSet<string>>> OperatorsByCase = new(() =>
        OperatorComparisonTests.Operators.Select(row => row.Data).ToDictionary(c => c, c =>
            Nodes(ModelProto.Parser.ParseFrom(OperatorComparisonTests.Build(c).Model).Graph).ToHashSet(StringComparer.Ordinal)));

    private static IEnumerable<string> Nodes(GraphProto graph) =>
        graph.Node.SelectMany(n => new[] { n.OpType }.Concat(n.Attribute.Where(a => a.G is not null).SelectMany(a => Nodes(a.G))));

    [Theory]
    [MemberData(nameof(Catalog))]
    public void Every_operator_has_a_reader_kernels_a_reference_evaluation_and_an_OnnxRuntime_comparison(string op)
    {
        Assert.True(OperatorCatalog.TryGet(op, out OperatorDefinition definition));
        Assert.NotNull(definition.Read);
        Assert.False(string.IsNullOrWhiteSpace(definition.Notes), op + " has no notes for docs/operators.md");
        string[] cases = OperatorsByCase.Value.Where(c => c.Value.Contains(op)).Select(c => c.Key).ToArray();
        Assert.True(cases.Length > 0, op + " is in the operator catalog but no OperatorComparisonTests case uses it: add one, so that it is compared with ONNX Runtime (float and 8-bit) and by the reference evaluator");

        // The first case that uses it: read, lowered to a verified kernel program, and evaluated in double precision
        // within 1e-4 of ONNX Runtime (the full comparison of every case runs in OperatorComparisonTests).
        (byte[] model, _) = OperatorComparisonTests.Build(cases[0]);
        NetworkGraph graph = OnnxReader.Read("model.onnx", model);
        KernelProgram program = ProgramCompiler.Compile(graph);
        ProgramVerifier.Verify(program);
        Assert.NotEmpty(program.Steps);
        using var reference = new OnnxRuntimeReference(model, new long[] { 1, 4, 6, 6 });
        float[] input = TestModels.Input(4 * 36, seed: 3).Select(v => 2 * v - 1).ToArray();
        float[] expected = reference.Run(input);
        double[] actual = new ReferenceEvaluator(graph).Run(input.Select(v => (double)v).ToArray())[graph.OutputValue];
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"{op} ({cases[0]}), output {i}: ONNX Runtime {expected[i]}, reference evaluator {actual[i]}");
    }

    [Fact]
    public void Every_operator_a_comparison_case_uses_is_in_the_catalog()
    {
        string[] unknown = OperatorsByCase.Value.Values.SelectMany(ops => ops).Distinct().Where(op => !OperatorCatalog.TryGet(op, out _)).ToArray();
        Assert.Empty(unknown);
    }
}
