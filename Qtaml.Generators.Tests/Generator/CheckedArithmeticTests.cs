using System.Reflection;
using Microsoft.CodeAnalysis;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// A consumer may build with <c>&lt;CheckForOverflowUnderflow&gt;true&lt;/CheckForOverflowUnderflow&gt;</c>: the
/// generated code compiles into their assembly under their options, so it must not rely on silent wrapping.
/// </summary>
public class CheckedArithmeticTests
{
    public static TheoryData<string, int> Cases => new() { { "cnn", 4 }, { "cnn", 8 }, { "mlp", 4 }, { "mlp", 8 }, { "cnn", 12 } };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generated_code_runs_under_checked_arithmetic_and_gives_the_same_outputs(string model, int bits)
    {
        OnnxModelBuilder builder = model == "cnn" ? TestModels.Cnn() : TestModels.Mlp();
        byte[] file = builder.Build(new long[] { 1, 10 });
        var result = GeneratorHarness.Run(TestModels.Consumer("Models/model.onnx", ", Bits = " + bits), new[] { GeneratorHarness.WeightFile("Models/model.onnx", file) });
        Assert.Empty(result.GeneratorDiagnostics.Where(d => d.DefaultSeverity == DiagnosticSeverity.Error));

        Compilation checkedConsumer = result.Output.WithOptions(result.Output.Options.WithOverflowChecks(true));
        MethodInfo runChecked = GeneratorHarness.CompileAndLoad(checkedConsumer).GetType("Models.Harness")!.GetMethod("Run")!;
        MethodInfo runUnchecked = GeneratorHarness.CompileAndLoad(result.Output).GetType("Models.Harness")!.GetMethod("Run")!;
        int length = (int)builder.InputShape.Skip(1).Aggregate(1L, (a, b) => a * b);
        for (int seed = 0; seed < 5; seed++)
        {
            float[] input = TestModels.Input(length, seed), expected = new float[10], actual = new float[10];
            runUnchecked.Invoke(null, new object[] { input, expected });
            runChecked.Invoke(null, new object[] { input, actual });   // an OverflowException would surface here
            Assert.Equal(expected, actual);
        }
    }
}
