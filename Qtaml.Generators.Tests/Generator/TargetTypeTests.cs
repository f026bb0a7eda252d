using System.Reflection;
using Microsoft.CodeAnalysis;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>Which types the attribute can go on, and what a user sees when a model cannot be compiled.</summary>
public class TargetTypeTests
{
    private const string Path = "Models/model.onnx";
    private static AdditionalText[] Files => new[] { GeneratorHarness.WeightFile(Path, TestModels.Mlp().Build(new long[] { 1, 10 })) };

    [Fact]
    public void A_nested_class_gets_its_members_inside_its_containing_types()
    {
        const string Source = """
            namespace App
            {
                public partial class Outer
                {
                    internal static partial class Middle
                    {
                        [global::Qtaml.TunnelingCompensated("Models/model.onnx")]
                        public static partial class Model { }
                    }
                }

                public static class Harness
                {
                    public static int Predict(float[] input) => Outer.Middle.Model.Predict(input);
                    public static int Outputs => Outer.Middle.Model.OutputLength;
                }
            }
            """;
        var result = GeneratorHarness.Run(Source, Files);
        Assert.Empty(result.GeneratorDiagnostics.Where(d => d.DefaultSeverity == DiagnosticSeverity.Error));
        Assert.Equal("App.Outer.Middle.Model.g.cs", result.Run.Results.Single().GeneratedSources.Single().HintName);
        Assembly assembly = GeneratorHarness.CompileAndLoad(result.Output);
        Type harness = assembly.GetType("App.Harness")!;
        Assert.Equal(10, harness.GetProperty("Outputs")!.GetValue(null));
        Assert.Null(assembly.GetType("App.Model"));   // no stray top-level class
        Assert.InRange((int)harness.GetMethod("Predict")!.Invoke(null, new object[] { TestModels.Input(20, 1) })!, 0, 9);
    }

    [Theory]
    [InlineData("public static partial class Model<T> { }", "generic")]
    [InlineData("public partial class Holder<T> { [global::Qtaml.TunnelingCompensated(\"Models/model.onnx\")] public static partial class Model { } }", "generic")]
    [InlineData("public partial record Model { }", "is a record")]
    [InlineData("public partial struct Model { }", "is a struct")]
    [InlineData("public partial record struct Model { }", "is a record struct")]
    [InlineData("public partial interface Model { }", "interface")]
    [InlineData("public class Holder { [global::Qtaml.TunnelingCompensated(\"Models/model.onnx\")] public static partial class Model { } }", "not partial")]
    public void An_unsupported_target_is_a_diagnostic_on_the_type_not_a_silent_wrong_class(string declaration, string reason)
    {
        string source = "namespace App;\n" + (declaration.Contains("TunnelingCompensated", StringComparison.Ordinal) ? "" : "[global::Qtaml.TunnelingCompensated(\"Models/model.onnx\")]\n") + declaration;
        var result = GeneratorHarness.Run(source, Files);
        Diagnostic diagnostic = Assert.Single(result.GeneratorDiagnostics);
        Assert.Equal("QTAML019", diagnostic.Id);
        Assert.Contains(reason, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Equal("Model", source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        // Whatever was generated compiles: no follow-on compiler errors beside the one diagnostic (and, on a
        // struct or interface, the compiler's own CS0592: the attribute is declared for classes).
        Assert.Empty(result.Output.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error && d.Id != "CS0592"));
    }

    [Fact]
    public void A_failed_model_still_declares_its_members_so_the_one_error_is_the_only_error()
    {
        // A misspelt node: QTAML007, and the user's calls to Predict and Run still resolve (they throw at run time).
        var result = GeneratorHarness.Run(TestModels.Consumer(Path, ", Node = \"9nm\""), Files);
        Assert.Equal(new[] { "QTAML007" }, result.GeneratorDiagnostics.Select(d => d.Id).ToArray());
        Assembly assembly = GeneratorHarness.CompileAndLoad(result.Output);
        var thrown = Assert.Throws<TargetInvocationException>(() => assembly.GetType("Models.Harness")!.GetMethod("Predict")!.Invoke(null, new object[] { new float[20] }));
        Assert.IsType<InvalidOperationException>(thrown.InnerException);
        Assert.Contains("QTAML007", thrown.InnerException!.Message, StringComparison.Ordinal);
        Assert.Contains("9nm", thrown.InnerException.Message, StringComparison.Ordinal);
    }
}
