extern alias gen;
using System.Globalization;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Qtaml.Generators.Tests.Support;
using TrackingNames = gen::Qtaml.Generators.TunnelingCompensatedGenerator.TrackingNames;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>Caching, determinism, regeneration on a changed weight file, and the approved snapshot.</summary>
public class GeneratorBehaviourTests
{
    private const string Path = "Models/model.onnx";

    private static byte[] Tiny(int seed = 4) =>
        new OnnxModelBuilder(new long[] { 1, 1, 6, 6 }, seed).Conv(1, 2, 3).Relu().MaxPool(2, 2).Flatten().Gemm(2 * 2 * 2, 3).Softmax().Build(new long[] { 1, 3 });

    [Fact]
    public void An_unrelated_edit_reruns_nothing()
    {
        var files = new[] { GeneratorHarness.WeightFile(Path, Tiny()) };
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(TestModels.Consumer(Path, ", Node = \"7nm\""), "class Other { }");
        GeneratorDriver driver = GeneratorHarness.CreateDriver(files).RunGenerators(compilation, TestContext.Current.CancellationToken);

        // Edit another file: the attributed class, the weight files and the defaults are all unchanged.
        SyntaxTree other = compilation.SyntaxTrees.Last();
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(other, CSharpSyntaxTree.ParseText("class Other { int Changed; }", (CSharpParseOptions)other.Options, other.FilePath, cancellationToken: TestContext.Current.CancellationToken));
        GeneratorRunResult run = driver.RunGenerators(edited, TestContext.Current.CancellationToken).GetRunResult().Results.Single();

        foreach (string step in new[] { TrackingNames.Requests, TrackingNames.WeightFiles, TrackingNames.Defaults, TrackingNames.Inputs })
        {
            var reasons = run.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();
            Assert.NotEmpty(reasons);
            Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step} ran again: {r}"));
        }
        // The expensive step itself did not run: its input compared equal.
        Assert.All(run.TrackedSteps[TrackingNames.Results].SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
        // No source is added again. (Only the step that places diagnostics in the new syntax trees looks at the
        // compilation, so it runs on every edit; it does no compiling.)
        Assert.All(run.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Where(o => o.Value.GetType().Name == "GenerationResult"),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void Pipeline_models_hold_no_symbols_syntax_or_compilation()
    {
        var result = GeneratorHarness.Run(TestModels.Consumer(Path), new[] { GeneratorHarness.WeightFile(Path, Tiny()) });
        GeneratorRunResult run = result.Run.Results.Single();
        foreach (var step in run.TrackedSteps.Where(s => s.Key is TrackingNames.Requests or TrackingNames.WeightFiles or TrackingNames.Defaults or TrackingNames.Inputs or TrackingNames.Results))
            foreach (var output in step.Value.SelectMany(s => s.Outputs))
                AssertPlainValues(output.Value, step.Key, new HashSet<object>(ReferenceEqualityComparer.Instance));
    }

    private static void AssertPlainValues(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value is Enum || value is DiagnosticDescriptor) return;
        if (!value.GetType().IsValueType && !seen.Add(value)) return;
        Assert.False(value is Compilation or ISymbol or SyntaxNode or SyntaxTree or Location or SemanticModel, $"{path} holds a {value.GetType().Name}");
        if (value is System.Collections.IEnumerable items)
        {
            int i = 0;
            foreach (object? item in items) AssertPlainValues(item, $"{path}[{i++}]", seen);
            return;
        }
        foreach (FieldInfo field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            AssertPlainValues(field.GetValue(value), path + "." + field.Name, seen);
    }

    [Fact]
    public void Changing_the_weight_file_regenerates_the_code()
    {
        string source = TestModels.Consumer(Path);
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(source);
        AdditionalText original = GeneratorHarness.WeightFile(Path, Tiny(seed: 4));
        GeneratorDriver driver = GeneratorHarness.CreateDriver(new[] { original }).RunGenerators(compilation, TestContext.Current.CancellationToken);
        string before = driver.GetRunResult().Results.Single().GeneratedSources.Single().SourceText.ToString();

        // The same file with other weights, as the MSBuild step writes it after the model is re-exported.
        driver = driver.ReplaceAdditionalText(original, GeneratorHarness.WeightFile(Path, Tiny(seed: 5)));
        GeneratorRunResult run = driver.RunGenerators(compilation, TestContext.Current.CancellationToken).GetRunResult().Results.Single();
        string after = run.GeneratedSources.Single().SourceText.ToString();

        Assert.NotEqual(before, after);
        Assert.Contains(run.TrackedSteps[TrackingNames.Results].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        // No stale output: exactly what a fresh build of the new file gives.
        Assert.Equal(after, GeneratorHarness.Run(source, new[] { GeneratorHarness.WeightFile(Path, Tiny(seed: 5)) }).Source);
    }

    [Fact]
    public void Generating_twice_and_under_other_cultures_gives_identical_text()
    {
        var files = new[] { GeneratorHarness.WeightFile(Path, Tiny()) };
        string first = GeneratorHarness.Run(TestModels.Consumer(Path, ", EccBudget = 1.5"), files).Source;
        CultureInfo saved = CultureInfo.CurrentCulture;
        try
        {
            foreach (string culture in new[] { "tr-TR", "de-DE" })
            {
                CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(culture);
                Assert.Equal(first, GeneratorHarness.Run(TestModels.Consumer(Path, ", EccBudget = 1.5"), files).Source);
            }
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void Build_property_QtamlNode_sets_the_default_node_and_the_attribute_wins()
    {
        var files = new[] { GeneratorHarness.WeightFile(Path, Tiny()) };
        var properties = new Dictionary<string, string> { ["QtamlNode"] = "7nm" };
        Assert.Contains("for node 7nm.", GeneratorHarness.Run(TestModels.Consumer(Path), files, properties).Source);
        Assert.Contains("for node A14.", GeneratorHarness.Run(TestModels.Consumer(Path, ", Node = \"A14\""), files, properties).Source);
        Assert.Contains("for node 2nm.", GeneratorHarness.Run(TestModels.Consumer(Path), files).Source);
    }

    [Fact]
    public void Node_parameters_can_be_overridden_on_the_attribute_and_through_MSBuild()
    {
        var files = new[] { GeneratorHarness.WeightFile(Path, Tiny()) };
        // Twice the 2nm retention window: the survival probability squares, p10 = 1 − 0.9² = 0.19.
        string attribute = GeneratorHarness.Run(TestModels.Consumer(Path, ", RetentionMilliseconds = 128.0"), files).Source;
        Assert.Contains("for node 2nm (retention 128 ms).", attribute);
        Assert.Contains("p10 = 0.19, p01 = 0 at its end.", attribute);
        // Compensated, by default, for the read-out averaged over the window: 1 − P/(−ln(1 − P)) with P = 0.19.
        double averaged = 1 - 0.19 / -Math.Log(1 - 0.19);
        Assert.Contains("Compensated for the read-out averaged over the window: p10 = " + averaged.ToString("G4", CultureInfo.InvariantCulture) + ", p01 = 0.", attribute);
        var properties = new Dictionary<string, string> { ["QtamlReverseLeakRatio"] = "0.5" };
        string msbuild = GeneratorHarness.Run(TestModels.Consumer(Path), files, properties).Source;
        Assert.Contains("(eta 0.5)", msbuild);
        // The two-state chain with b = a/2: p10 = (1 − e^{−1.5·a·t})/1.5 with a·t = −ln 0.9 (the 2nm anchor), p01 = p10/2.
        double p10 = (1 - Math.Exp(1.5 * Math.Log(0.9))) / 1.5;
        Assert.Contains("p10 = " + p10.ToString("G4", CultureInfo.InvariantCulture) + ", p01 = " + (p10 / 2).ToString("G4", CultureInfo.InvariantCulture) + " at its end.", msbuild);
    }

    [Fact]
    public void A_node_build_compensates_for_the_window_average_unless_asked_for_its_end()
    {
        var files = new[] { GeneratorHarness.WeightFile(Path, Tiny()) };
        var average = GeneratorHarness.Run(TestModels.Consumer(Path, ", Node = \"2nm\""), files);
        var end = GeneratorHarness.Run(TestModels.Consumer(Path, ", Node = \"2nm\", OperatingPoint = global::Qtaml.Physics.OperatingPoint.EndOfWindow"), files);
        var info = (ModelInfo)GeneratorHarness.CompileAndLoad(average.Output).GetType("Models.Harness")!.GetProperty("Info")!.GetValue(null)!;
        var endInfo = (ModelInfo)GeneratorHarness.CompileAndLoad(end.Output).GetType("Models.Harness")!.GetProperty("Info")!.GetValue(null)!;
        Assert.Equal(Qtaml.Physics.CompensationPoint.WindowAverage, info.OperatingPoint);
        Assert.Equal(1 - 0.1 / -Math.Log(0.9), info.P10, 1e-12);
        Assert.Equal(0.1, info.WindowEndP10, 1e-12);
        Assert.Equal(Qtaml.Physics.CompensationPoint.EndOfWindow, endInfo.OperatingPoint);
        Assert.Equal(0.1, endInfo.P10, 1e-12);
        Assert.Contains("Compensated for the end of the window: p10 = 0.1, p01 = 0.", end.Source, StringComparison.Ordinal);

        // What an engineer reads: the encoding, the operating point, the budgets, and a row per layer.
        string report = info.ToString();
        Assert.Contains("at 2nm: 8-bit ", report, StringComparison.Ordinal);
        Assert.Contains("codes compensated for the window average (p10 = " + info.P10.ToString("G4", CultureInfo.InvariantCulture), report, StringComparison.Ordinal);
        Assert.Contains("rho* = ", report, StringComparison.Ordinal);
        foreach (LayerInfo layer in info.Layers)
            Assert.Matches(System.Text.RegularExpressions.Regex.Escape(layer.Name) + @"\s+" + layer.Operator + @"\s+" + layer.WeightCount + @"\s+" + layer.ProtectedPlanes + " of 8", report);
        // It leads with what the build did (node, budget, planes protected, no forecast without calibration); the
        // noise-floor figures come last, labelled as a reference rather than a target.
        string[] lines = report.Split('\n');
        Assert.Contains(" protected bits/weight", lines[0], StringComparison.Ordinal);
        Assert.StartsWith($"  ECC protects {info.Protection.Sum()} of {8 * info.Layers.Count} bit-planes", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("  no calibration inputs, so no forecast", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("  noise-floor reference (not a target): ", lines[^1], StringComparison.Ordinal);
    }
}
