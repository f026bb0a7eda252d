using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// The generated source of four shapes of network, compared with the approved files in Snapshots/: a chain CNN, a
/// residual CNN, a depthwise-separable CNN and a transformer encoder. A change to the emitted code shows up as a
/// reviewable diff. To re-approve after an intended change: <c>QTAML_APPROVE=1 dotnet test</c>, then review the
/// diff of Snapshots/ before committing it.
/// </summary>
public class SnapshotTests
{
    private const string Path = "Models/model.onnx";

    public static TheoryData<string> Shapes => new() { "ChainCnn", "ResidualCnn", "DepthwiseSeparable", "Encoder" };

    private static byte[] Model(string shape) => shape switch
    {
        "ChainCnn" => new OnnxModelBuilder(new long[] { 1, 1, 6, 6 }, 4).Conv(1, 2, 3).Relu().MaxPool(2, 2).Flatten().Gemm(2 * 2 * 2, 3).Softmax().Build(new long[] { 1, 3 }),
        "ResidualCnn" => Residual(),
        "DepthwiseSeparable" => new OnnxModelBuilder(new long[] { 1, 2, 6, 6 }, 5)
            .ConvNd(2, 8, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }).Relu()
            .ConvNd(8, 8, new[] { 3, 3 }, new[] { 2, 2 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, group: 8).Relu()
            .ConvNd(8, 8, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 })
            .Flatten().Gemm(8 * 9, 3).Build(new long[] { 1, 3 }),
        _ => TinyEncoder.Build(seed: 1),
    };

    private static byte[] Residual()
    {
        var builder = new OnnxModelBuilder(new long[] { 1, 2, 6, 6 }, 6).ConvNd(2, 8, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }).Relu();
        string skip = builder.Current;
        return builder.ConvNd(8, 8, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }).AddValue(skip).Relu()
            .PoolNd("MaxPool", new[] { 2, 2 }, new[] { 2, 2 }).Flatten().Gemm(8 * 9, 3).Build(new long[] { 1, 3 });
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Generated_source_matches_the_approved_snapshot(string shape)
    {
        var result = GeneratorHarness.Run(TestModels.Consumer(Path, ", Node = \"2nm\", Bits = 4, EccBudget = 1.0"), new[] { GeneratorHarness.WeightFile(Path, Model(shape)) });
        Assert.Empty(result.GeneratorDiagnostics.Where(d => d.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
        string actual = result.Source;
        GeneratorHarness.CompileAndLoad(result.Output);
        string approved = RepositoryPaths.Combine("Qtaml.Generators.Tests", "Snapshots", shape + ".g.cs.approved");
        if (Environment.GetEnvironmentVariable("QTAML_APPROVE") == "1") File.WriteAllText(approved, actual);
        Assert.True(File.Exists(approved), "No approved snapshot for " + shape + ": run QTAML_APPROVE=1 dotnet test and review Snapshots/.");
        Assert.Equal(File.ReadAllText(approved).ReplaceLineEndings("\n"), actual);
    }
}
