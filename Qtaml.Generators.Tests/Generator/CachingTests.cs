extern alias gen;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Qtaml.Generators.Tests.Support;
using TrackingNames = gen::Qtaml.Generators.TunnelingCompensatedGenerator.TrackingNames;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// The expensive compile step (read, plan, emit) runs only when what it reads changed. Each test asserts the
/// step's reason is <c>Cached</c> (the step did not run), not merely <c>Unchanged</c> (it ran and gave the same).
/// </summary>
public class CachingTests
{
    private static byte[] Model(int seed) =>
        new OnnxModelBuilder(new long[] { 1, 8 }, seed).Gemm(8, 4).Relu().Gemm(4, 3).Build(new long[] { 1, 3 });

    private const string TwoModels = """
        using Qtaml;
        namespace App;
        [TunnelingCompensated("Models/a.onnx")] public static partial class A { }
        [TunnelingCompensated("Models/b.onnx")] public static partial class B { }
        """;

    private static IncrementalStepRunReason[] Reasons(GeneratorRunResult run, string step) =>
        run.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();

    /// <summary>The compile step's reasons by the class each output belongs to (A or B).</summary>
    private static Dictionary<string, IncrementalStepRunReason> CompileReasons(GeneratorRunResult run) =>
        run.TrackedSteps[TrackingNames.Results].SelectMany(s => s.Outputs)
            .ToDictionary(o => o.Value.ToString()!.Contains("App.A.g.cs", StringComparison.Ordinal) ? "A" : "B", o => o.Reason);

    private static (GeneratorDriver Driver, CSharpCompilation Compilation, AdditionalText[] Files) FirstRun(string source)
    {
        AdditionalText[] files = { GeneratorHarness.WeightFile("Models/a.onnx", Model(1)), GeneratorHarness.WeightFile("Models/b.onnx", Model(2)) };
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(source);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(files).RunGenerators(compilation, TestContext.Current.CancellationToken);
        return (driver, compilation, files);
    }

    [Fact]
    public void A_second_run_with_nothing_changed_leaves_the_compile_step_cached()
    {
        (GeneratorDriver driver, CSharpCompilation compilation, _) = FirstRun(TwoModels);
        GeneratorRunResult run = driver.RunGenerators(compilation, TestContext.Current.CancellationToken).GetRunResult().Results.Single();
        Assert.Equal(new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Cached }, Reasons(run, TrackingNames.Results));
    }

    [Fact]
    public void Editing_one_weight_file_recompiles_only_the_class_that_names_it()
    {
        (GeneratorDriver driver, CSharpCompilation compilation, AdditionalText[] files) = FirstRun(TwoModels);
        driver = driver.ReplaceAdditionalText(files[0], GeneratorHarness.WeightFile("Models/a.onnx", Model(3)));
        GeneratorRunResult run = driver.RunGenerators(compilation, TestContext.Current.CancellationToken).GetRunResult().Results.Single();

        Dictionary<string, IncrementalStepRunReason> reasons = CompileReasons(run);
        Assert.Equal(IncrementalStepRunReason.Modified, reasons["A"]);
        Assert.Equal(IncrementalStepRunReason.Cached, reasons["B"]);
    }

    [Fact]
    public void A_blank_line_above_an_attributed_class_does_not_recompile_it()
    {
        (GeneratorDriver driver, CSharpCompilation compilation, _) = FirstRun(TwoModels);
        SyntaxTree tree = compilation.SyntaxTrees.Single();
        string moved = TwoModels.Replace("namespace App;", "namespace App;\n\n", StringComparison.Ordinal);
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(moved, (CSharpParseOptions)tree.Options, tree.FilePath, cancellationToken: TestContext.Current.CancellationToken));
        GeneratorRunResult run = driver.RunGenerators(edited, TestContext.Current.CancellationToken).GetRunResult().Results.Single();

        Assert.Equal(new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Cached }, Reasons(run, TrackingNames.Results));
    }

    [Fact]
    public void A_diagnostic_moves_with_its_class_without_recompiling_it()
    {
        const string Broken = """
            using Qtaml;
            namespace App;
            [TunnelingCompensated("Models/a.onnx", Node = "9nm")] public static partial class A { }
            """;
        (GeneratorDriver driver, CSharpCompilation compilation, _) = FirstRun(Broken);
        SyntaxTree tree = compilation.SyntaxTrees.Single();
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText("\n\n" + Broken, (CSharpParseOptions)tree.Options, tree.FilePath, cancellationToken: TestContext.Current.CancellationToken));
        driver = driver.RunGeneratorsAndUpdateCompilation(edited, out _, out var diagnostics, TestContext.Current.CancellationToken);

        Diagnostic unknownNode = Assert.Single(diagnostics, d => d.Id == "QTAML007");
        Assert.Equal(4, unknownNode.Location.GetLineSpan().StartLinePosition.Line);   // line 5: two lines lower than written first
        Assert.Equal(IncrementalStepRunReason.Cached, Assert.Single(Reasons(driver.GetRunResult().Results.Single(), TrackingNames.Results)));
    }
}
