using Microsoft.CodeAnalysis;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>safetensors checkpoints: the same network as the ONNX file gives the same outputs; bad files are diagnostics.</summary>
public class SafetensorsTests
{
    private const string Path = "Models/model.safetensors";

    [Fact]
    public void A_checkpoint_with_declared_layers_matches_OnnxRuntime_on_the_same_weights()
    {
        OnnxModelBuilder builder = TestModels.Cnn();
        byte[] onnx = builder.Build(new long[] { 1, 10 });
        byte[] checkpoint = SafetensorsWriter.Write(builder.Ops, builder.InputShape);
        using var reference = new OnnxRuntimeReference(onnx, builder.InputShape);

        var result = GeneratorHarness.Run(TestModels.Consumer(Path, ", Quantize = false"), new[] { GeneratorHarness.WeightFile(Path, checkpoint) });
        Assert.Empty(result.GeneratorDiagnostics);
        Type harness = GeneratorHarness.CompileAndLoad(result.Output).GetType("Models.Harness")!;
        for (int seed = 0; seed < 20; seed++)
        {
            float[] input = TestModels.Input(144, seed), output = new float[10];
            harness.GetMethod("Run")!.Invoke(null, new object[] { input, output });
            float[] expected = reference.Run(input);
            for (int i = 0; i < 10; i++) Assert.True(Math.Abs(expected[i] - output[i]) <= 1e-4, $"input {seed}, output {i}: {expected[i]} vs {output[i]}");
        }
    }

    private static Diagnostic Only(byte[] file)
    {
        var result = GeneratorHarness.Run(TestModels.Consumer(Path), new[] { GeneratorHarness.WeightFile(Path, file) });
        return Assert.Single(result.GeneratorDiagnostics);
    }

    [Fact]
    public void A_header_claiming_terabytes_is_refused_without_allocating_it()
    {
        byte[] file = SafetensorsWriter.Write(TestModels.Mlp().Ops, new long[] { 1, 20 });
        BitConverter.GetBytes(5UL << 40).CopyTo(file, 0);
        Diagnostic d = Only(file);
        Assert.Equal("QTAML002", d.Id);
        Assert.Contains("claims 5497558138880 bytes", d.GetMessage());
    }

    [Fact]
    public void Offsets_past_the_end_of_the_data_are_refused()
    {
        byte[] file = SafetensorsWriter.Write(TestModels.Mlp().Ops, new long[] { 1, 20 }, editHeader: h => h.Replace("\"data_offsets\":[0,1280]", "\"data_offsets\":[0,999999999]"));
        Diagnostic d = Only(file);
        Assert.Equal("QTAML002", d.Id);
        Assert.Contains("data section", d.GetMessage());
    }

    [Fact]
    public void A_checkpoint_without_declared_layers_says_how_to_declare_them()
    {
        byte[] file = SafetensorsWriter.Write(TestModels.Mlp().Ops, new long[] { 1, 20 }, editHeader: h => h.Replace("qtaml.layers", "something.else"));
        Diagnostic d = Only(file);
        Assert.Equal("QTAML002", d.Id);
        Assert.Contains("'qtaml.layers'", d.GetMessage());
    }

    [Fact]
    public void Half_precision_tensors_are_an_unsupported_data_type()
    {
        Diagnostic d = Only(SafetensorsWriter.Write(TestModels.Mlp().Ops, new long[] { 1, 20 }, dtype: "F16"));
        Assert.Equal("QTAML004", d.Id);
        Assert.Contains("F16", d.GetMessage());
    }

    [Fact]
    public void An_undeclared_layer_kind_is_an_unsupported_operator()
    {
        Diagnostic d = Only(SafetensorsWriter.Write(TestModels.Mlp().Ops, new long[] { 1, 20 }, editHeader: h => h.Replace("; Relu;", "; Tanh;")));
        Assert.Equal("QTAML003", d.Id);
        Assert.Contains("'Tanh'", d.GetMessage());
    }
}
