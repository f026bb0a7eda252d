using System.Reflection;
using Qtaml.Faults;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>Generated code checks what callers pass and says what to do instead.</summary>
public class GeneratedApiValidationTests
{
    private static Type Harness(int seed, string className = "Model")
    {
        byte[] model = TestModels.Mlp(seed).Build(new long[] { 1, 10 });
        var result = GeneratorHarness.Run(TestModels.Consumer("Models/model.onnx", ", FlipProbability = 0.1").Replace("class Model", "class " + className).Replace("Model.", className + "."),
            new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        return GeneratorHarness.CompileAndLoad(result.Output).GetType("Models.Harness")!;
    }

    private static TException Throws<TException>(Action call) where TException : Exception
    {
        var wrapped = Assert.Throws<TargetInvocationException>(call);
        return Assert.IsType<TException>(wrapped.InnerException);
    }

    [Fact]
    public void Wrong_input_or_output_lengths_are_argument_errors_that_give_the_expected_length()
    {
        Type harness = Harness(1);
        MethodInfo run = harness.GetMethod("Run")!;
        var input = Throws<ArgumentException>(() => run.Invoke(null, new object[] { new float[19], new float[10] }));
        Assert.Contains("must hold 20 values; it holds 19", input.Message);
        Assert.Equal("input", input.ParamName);
        var output = Throws<ArgumentException>(() => run.Invoke(null, new object[] { new float[20], new float[3] }));
        Assert.Contains("must hold 10 values; it holds 3", output.Message);
    }

    [Fact]
    public void A_null_or_foreign_weight_image_is_rejected_with_what_to_use_instead()
    {
        Type harness = Harness(1);
        MethodInfo runImage = harness.GetMethod("RunImage")!;
        Throws<ArgumentNullException>(() => runImage.Invoke(null, new object?[] { null, new float[20], new float[10] }));

        WeightImage foreign = WeightImage.FromCodes(8, new[] { "other" }, new[] { new[] { 1, 2, 3 } });
        var error = Throws<ArgumentException>(() => runImage.Invoke(null, new object[] { foreign, new float[20], new float[10] }));
        Assert.Contains("does not have this model's layout: it holds 1 layers and this model 2", error.Message);
        Assert.Contains("Make it with Model.CreateWeightImage() or Model.Quantized.CreateImage(...)", error.Message);

        // An image of the same model is accepted, faulted or not.
        var own = (WeightImage)harness.GetMethod("CreateWeightImage")!.Invoke(null, null)!;
        TunnelingFaultModel.Symmetric(0.1).Inject(own, ((ModelInfo)harness.GetProperty("Info")!.GetValue(null)!).Protection, seed: 1);
        runImage.Invoke(null, new object[] { own, new float[20], new float[10] });
    }

    [Fact]
    public void Runtime_arguments_out_of_range_say_what_range_is_valid()
    {
        Assert.Contains("[0, 0.5)", Assert.Throws<ArgumentOutOfRangeException>(() => TunnelingFaultModel.Symmetric(0.7)).Message);
        Assert.Contains("Known nodes", Assert.Throws<ArgumentException>(() => TunnelingFaultModel.ForNode("1nm")).Message);
        Assert.Contains("copy only between images of the same model", Assert.Throws<ArgumentException>(() =>
            WeightImage.FromCodes(8, new[] { "a" }, new[] { new[] { 1 } }).CopyFrom(WeightImage.FromCodes(8, new[] { "a" }, new[] { new[] { 1, 2 } }))).Message);
        Assert.Contains("between -128 and 127", Assert.Throws<ArgumentOutOfRangeException>(() => WeightImage.FromCodes(8, new[] { "a" }, new[] { new[] { 300 } })).Message);
    }
}
