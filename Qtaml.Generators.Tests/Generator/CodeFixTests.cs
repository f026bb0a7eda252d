extern alias gen;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using Qtaml.CodeFixes;
using Qtaml.Generators.Tests.Support;
using QtamlGenerator = gen::Qtaml.Generators.TunnelingCompensatedGenerator;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// The code fixes, with Roslyn's code-fix test framework: the generator runs on the test's project (its weight
/// file as an encoded AdditionalFile), reports its diagnostic, the fix is applied, and the fixed project must
/// compile with the generator's output and no Qtaml error left.
/// </summary>
public class CodeFixTests
{
    private static readonly byte[] Mlp = TestModels.Mlp().Build(new long[] { 1, 10 });

    /// <summary>A code-fix test whose project runs the Qtaml generator, references the runtime and holds weight files.</summary>
    private sealed class Test<TFix> : CSharpCodeFixTest<EmptyDiagnosticAnalyzer, TFix, DefaultVerifier>
        where TFix : CodeFixProvider, new()
    {
        public Test(string source, string fixedSource, params (string ProjectPath, byte[] Bytes)[] weightFiles) : this(source, fixedSource, quietBudget: true, weightFiles) { }

        public Test(string source, string fixedSource, bool quietBudget, params (string ProjectPath, byte[] Bytes)[] weightFiles)
        {
            TestCode = source;
            FixedCode = fixedSource;
            ReferenceAssemblies = new ReferenceAssemblies("net10.0");
            TestState.AdditionalReferences.AddRange(GeneratorHarness.ConsumerReferences);
            foreach ((string projectPath, byte[] bytes) in weightFiles)
            {
                AdditionalText file = GeneratorHarness.WeightFile(projectPath, bytes);
                TestState.AdditionalFiles.Add((file.Path, file.GetText()!.ToString()));
            }
            // The budget warnings are not what most of these tests are about.
            if (quietBudget)
                TestState.AnalyzerConfigFiles.Add(("/.globalconfig", "is_global = true\ndotnet_diagnostic.QTAML010.severity = none\ndotnet_diagnostic.QTAML011.severity = none\ndotnet_diagnostic.QTAML028.severity = none\n"));
            TestBehaviors = TestBehaviors.SkipGeneratedSourcesCheck;
        }

        protected override IEnumerable<Type> GetSourceGenerators() => new[] { typeof(QtamlGenerator) };
    }

    private static string Attributed(string arguments, string declaration = "public static partial class Model { }") => $$"""
        namespace App
        {
            [global::Qtaml.TunnelingCompensated({{arguments}})]
            {{declaration}}
        }
        """;

    [Fact]
    public async Task A_misspelt_node_is_replaced_by_the_nearest_known_one()
    {
        var test = new Test<ReplaceArgumentCodeFix>(Attributed("\"Models/m.onnx\", Node = {|#0:\"2mn\"|}"), Attributed("\"Models/m.onnx\", Node = \"2nm\""), ("Models/m.onnx", Mlp));
        test.ExpectedDiagnostics.Add(new DiagnosticResult("QTAML007", DiagnosticSeverity.Error).WithLocation(0).WithArguments("2mn", "7nm, 5nm, 3nm, 2nm, A14"));
        await test.RunAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_misspelt_path_is_replaced_by_the_nearest_weight_file()
    {
        var test = new Test<ReplaceArgumentCodeFix>(Attributed("{|#0:\"Models/digts.onnx\"|}"), Attributed("\"Models/digits.onnx\""), ("Models/digits.onnx", Mlp), ("Models/other.safetensors", Mlp));
        test.ExpectedDiagnostics.Add(new DiagnosticResult("QTAML001", DiagnosticSeverity.Error).WithLocation(0).WithArguments("Models/digts.onnx", " Did you mean 'Models/digits.onnx'?"));
        await test.RunAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_missing_partial_is_added()
    {
        var test = new Test<AddPartialCodeFix>(
            Attributed("\"Models/m.onnx\"", "public static class {|#0:Model|} { }"),
            Attributed("\"Models/m.onnx\"", "public static partial class Model { }"), ("Models/m.onnx", Mlp));
        test.ExpectedDiagnostics.Add(new DiagnosticResult("QTAML006", DiagnosticSeverity.Error).WithLocation(0).WithArguments("Model"));
        await test.RunAsync(TestContext.Current.CancellationToken);
    }

    private static readonly byte[] CalibrationInputs = DiagnosticTests.Calibration();
    private const string Calibrated = "Calibration = \"Models/calibration.npy\", FlipProbability = 0.2";

    /// <summary>The budget the calibrated build recommends for the MLP (what the fix must write), read from the generator's own diagnostic.</summary>
    private static (string Budget, string Message) RecommendedBudget()
    {
        var run = GeneratorHarness.Run(TestModels.Consumer("Models/m.onnx", ", " + Calibrated + ", EccBudget = 0.0"),
            new[] { GeneratorHarness.WeightFile("Models/m.onnx", Mlp), GeneratorHarness.WeightFile("Models/calibration.npy", CalibrationInputs) });
        Diagnostic warning = run.GeneratorDiagnostics.Single(d => d.Id == "QTAML010");
        return (warning.Properties["QtamlReplacement"]!, warning.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_budget_below_what_the_target_needs_is_set_to_the_recommended_value_and_the_warning_goes()
    {
        (string recommended, string message) = RecommendedBudget();
        Assert.True(double.Parse(recommended, System.Globalization.CultureInfo.InvariantCulture) > 0);
        var test = new Test<ReplaceArgumentCodeFix>(Attributed("\"Models/m.onnx\", " + Calibrated + ", EccBudget = {|#0:0.0|}"), Attributed("\"Models/m.onnx\", " + Calibrated + ", EccBudget = " + recommended),
            quietBudget: false, ("Models/m.onnx", Mlp), ("Models/calibration.npy", CalibrationInputs));
        test.ExpectedDiagnostics.Add(new DiagnosticResult("QTAML010", DiagnosticSeverity.Warning).WithLocation(0).WithMessage(message));
        await test.RunAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_budget_that_is_not_written_is_added_to_the_attribute()
    {
        // The budget comes from MSBuild (QtamlEccBudget = 0): the warning is on the attribute, and the fix writes EccBudget.
        (string recommended, string message) = RecommendedBudget();
        var test = new Test<ReplaceArgumentCodeFix>(
            "namespace App\n{\n    [{|#0:global::Qtaml.TunnelingCompensated(\"Models/m.onnx\", " + Calibrated + ")|}]\n    public static partial class Model { }\n}",
            "namespace App\n{\n    [global::Qtaml.TunnelingCompensated(\"Models/m.onnx\", " + Calibrated + ", EccBudget = " + recommended + ")]\n    public static partial class Model { }\n}",
            quietBudget: false, ("Models/m.onnx", Mlp), ("Models/calibration.npy", CalibrationInputs));
        test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig", "is_global = true\nbuild_property.QtamlEccBudget = 0.0\n"));
        test.FixedState.AnalyzerConfigFiles.Add(("/.globalconfig", "is_global = true\nbuild_property.QtamlEccBudget = 0.0\n"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult("QTAML010", DiagnosticSeverity.Warning).WithLocation(0).WithMessage(message.Replace("EccBudget = 0.000", "EccBudget = 0.000")));
        await test.RunAsync(TestContext.Current.CancellationToken);
    }
}
