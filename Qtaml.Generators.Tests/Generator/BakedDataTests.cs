extern alias gen;
using System.Reflection;
using Qtaml.Faults;
using Qtaml.Generators.Tests.Support;
using FlipProbabilities = gen::Qtaml.Physics.FlipProbabilities;
using ModelPlan = gen::Qtaml.Generators.Planning.ModelPlan;
using ModelPlanner = gen::Qtaml.Generators.Planning.ModelPlanner;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;
using ProgramCompiler = gen::Qtaml.Generators.Lowering.ProgramCompiler;
using StoredCodeTables = gen::Qtaml.Generators.Emit.StoredCodeTables;
using ConstantData = gen::Qtaml.Generators.Emit.ConstantData;
using BakedDataWriter = gen::Qtaml.Generators.Emit.BakedDataWriter;
using SourceWriter = gen::Qtaml.Generators.Emit.SourceWriter;
using QtamlGenerator = gen::Qtaml.Generators.TunnelingCompensatedGenerator;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// A model's weights are baked once, as binary data: the generated source grows by about 4/3 of a byte per stored
/// byte (Z85 text in UTF-8 literals), not by a decimal literal per weight, and the codes stored for the build's plan
/// are derived from the intended codes by one table per layer, so a quantized class no longer carries both.
/// </summary>
public class BakedDataTests
{
    /// <summary>256 → 1024 → 256 → 10: 526,848 weights, enough that the source is mostly data.</summary>
    private static byte[] WideModel() =>
        new OnnxModelBuilder(new long[] { 1, 256 }, seed: 11).Gemm(256, 1024).Relu().Gemm(1024, 256).Relu().Gemm(256, 10).Build(new long[] { 1, 10 });

    private const long Weights = 256 * 1024 + 1024 * 256 + 256 * 10;

    private static (string Source, Assembly Assembly) Generate(byte[] model, string arguments)
    {
        var result = GeneratorHarness.Run(TestModels.Consumer("Models/model.onnx", arguments), new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        Assert.DoesNotContain(result.GeneratorDiagnostics, d => d.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        string source = result.Run.Results.Single().GeneratedSources.Single().SourceText.ToString();
        return (source, GeneratorHarness.CompileAndLoad(result.Output));
    }

    [Theory]
    [InlineData(", Node = \"2nm\"", 1)]          // 8-bit codes with TAC: one byte per weight
    [InlineData(", Quantize = false", 4)]       // float weights: four bytes each
    public void The_generated_source_is_at_most_one_and_a_half_times_the_stored_weights_plus_200_KB(string arguments, int bytesPerWeight)
    {
        (string source, _) = Generate(WideModel(), arguments);
        long stored = Weights * bytesPerWeight;
        long bound = stored * 3 / 2 + 200 * 1024;
        Assert.True(source.Length <= bound, $"{source.Length:N0} characters of C# for {stored:N0} stored bytes; the bound is {bound:N0}.");
        // And not far below it either: the weights are in there, once (Z85 is 5/4 of a byte per byte).
        Assert.True(source.Length >= stored * 5 / 4, $"{source.Length:N0} characters cannot hold {stored:N0} bytes of weights.");
    }

    /// <summary>
    /// A MobileNet-like stack: a strided 3x3 stem, depthwise 3x3 and pointwise convolutions of growing width, a pool and
    /// a classifier, 114,208 weights in 11 layers, so its C# is as much kernels as data, as in the convolutional
    /// models edge apps ship.
    /// </summary>
    private static byte[] SeparableCnn()
    {
        var b = new OnnxModelBuilder(new long[] { 1, 3, 32, 32 }, seed: 12).Conv(3, 16, 3, stride: 2, pad: 1).Relu();
        foreach ((int inChannels, int outChannels, int stride) in new[] { (16, 32, 1), (32, 64, 2), (64, 128, 1), (128, 256, 2) })
            b = b.ConvNd(inChannels, inChannels, new[] { 3, 3 }, new[] { stride, stride }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, group: inChannels).Relu()
                 .Conv(inChannels, outChannels, 1).Relu();
        return b.Conv(256, 256, 1).Relu().AveragePool(4, 4).Flatten().Gemm(256, 10).Build(new long[] { 1, 10 });
    }

    private const long SeparableCnnWeights = 16 * 27 + 16 * 9 + 32 * 16 + 32 * 9 + 64 * 32 + 64 * 9 + 128 * 64 + 128 * 9 + 256 * 128 + 256 * 256 + 256 * 10;

    [Theory]
    [InlineData(", Node = \"2nm\"", 1)]
    [InlineData(", Quantize = false", 4)]
    public void A_convolutional_network_s_source_is_at_most_one_and_a_half_times_its_stored_weights_plus_200_KB(string arguments, int bytesPerWeight)
    {
        (string source, _) = Generate(SeparableCnn(), arguments);
        long stored = SeparableCnnWeights * bytesPerWeight;
        long bound = stored * 3 / 2 + 200 * 1024;
        Assert.True(source.Length <= bound, $"{source.Length:N0} characters of C# for {stored:N0} stored bytes; the bound is {bound:N0}.");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(ConstantData.BytesPerLine + 7)]   // a whole line, then a partial group on the next
    public void The_baked_class_decodes_every_byte_also_of_a_last_group_shorter_than_four(int length)
    {
        // Kernels' blobs end on whole floats today; the decoder must not depend on it.
        byte[] bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        bytes[^1] = 0xFF;
        var data = new ConstantData();
        data.Add(bytes);
        var w = new SourceWriter(1);
        BakedDataWriter.Write(w, data, images: null);
        string source = "using System; using System.Runtime.CompilerServices; using System.Runtime.InteropServices;\n"
            + "public static class Holder\n{\n    public static byte[] Read() => BakedData.Memory(0, " + length + ").ToArray();\n" + w + "}\n";
        Assembly assembly = GeneratorHarness.CompileAndLoad(GeneratorHarness.CreateCompilation(source));
        var decoded = (byte[])assembly.GetType("Holder", throwOnError: true)!.GetMethod("Read")!.Invoke(null, null)!;
        Assert.Equal(bytes, decoded);
    }

    [Fact]
    public void A_2nm_class_runs_the_codes_its_plan_stores_which_differ_from_the_intended_codes_it_bakes()
    {
        (_, Assembly assembly) = Generate(WideModel(), ", Node = \"2nm\"");
        Type harness = assembly.GetType("Models.Harness")!;
        var stored = (WeightImage)harness.GetMethod("CreateWeightImage")!.Invoke(null, null)!;
        var info = (ModelInfo)harness.GetProperty("Info")!.GetValue(null)!;
        var quantized = (Qtaml.Plans.QuantizedModel)assembly.GetType("Models.Model")!.GetProperty("Quantized")!.GetValue(null)!;
        // The class's own plan, laid out by the runtime from the intended codes: the bytes the class runs, bit for bit.
        WeightImage own = quantized.CreateImage(info.Allocator, info.EccBudget, new Qtaml.Physics.FlipProbabilities(info.P10, info.P01));
        Assert.True(stored.Bytes.SequenceEqual(own.Bytes), "the stored image is not the build's plan");
        // The translation is not the identity: at 2 nm with protected planes mean correction changes codes.
        int changed = Enumerable.Range(0, quantized.Layers.Count).Sum(l => quantized.IntendedCodes(l).Where((code, i) => code != stored.GetCode(l, i)).Count());
        Assert.True(changed > 0, "no code was changed by mean correction, so the tables were not exercised");
    }

    [Fact]
    public void A_project_on_CSharp_10_gets_one_error_on_the_attribute_that_says_which_version_is_needed()
    {
        string consumer = TestModels.Consumer("Models/model.onnx");
        var parse = new Microsoft.CodeAnalysis.CSharp.CSharpParseOptions(Microsoft.CodeAnalysis.CSharp.LanguageVersion.CSharp10);
        var compilation = GeneratorHarness.CreateCompilation(consumer);
        compilation = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(), Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(consumer, parse, path: "Source0.cs", cancellationToken: TestContext.Current.CancellationToken));
        var driver = Microsoft.CodeAnalysis.CSharp.CSharpGeneratorDriver.Create(new[] { Microsoft.CodeAnalysis.GeneratorExtensions.AsSourceGenerator(new QtamlGenerator()) },
            new[] { GeneratorHarness.WeightFile("Models/model.onnx", TestModels.Mlp().Build(new long[] { 1, 10 })) }, parse);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out _, out var diagnostics, TestContext.Current.CancellationToken);
        Microsoft.CodeAnalysis.Diagnostic error = Assert.Single(diagnostics, d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        Assert.Equal("QTAML031", error.Id);
        Assert.Contains("C# 11", error.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Contains("\"Models/model.onnx\"", error.Location.SourceTree!.GetText(TestContext.Current.CancellationToken).GetSubText(error.Location.SourceSpan).ToString(), StringComparison.Ordinal);
    }

    private static ModelPlan Plan()
    {
        var graph = OnnxReader.Read("model.onnx", TestModels.WideMlp().Build(new long[] { 1, 10 }));   // 70 x 40 codes: not a multiple of 32
        return ModelPlanner.Plan(graph, ProgramCompiler.Compile(graph), "test", FlipProbabilities.Symmetric(0.05), 8, 1.0);
    }

    [Fact]
    public void Stored_codes_are_derived_by_table_only_when_each_intended_code_always_becomes_the_same_stored_code()
    {
        ModelPlan plan = Plan();
        byte[]?[] tables = StoredCodeTables.Derive(plan)!;
        Assert.NotNull(tables);
        Assert.Contains(tables, t => t is not null);   // p = 0.05 with planes protected: the correction moves codes

        // Two weights of one layer with the same intended code stored differently: no table can say that.
        int start = plan.LayerOffsets[0], count = plan.Layers[0].StoredCodes.Length;
        int first = start, twin = Enumerable.Range(start + 1, count - 1).First(i => plan.IntendedImage[i] == plan.IntendedImage[first]);
        plan.Image[twin] ^= 1;
        Assert.Null(StoredCodeTables.Derive(plan));
        plan.Image[twin] ^= 1;

        // Padding between layers is never translated: a padding byte that differs breaks the derivation too.
        int padding = start + count;
        Assert.True(padding < plan.LayerOffsets[1], "the first layer ends on a 32-byte boundary; pick a model whose does not");
        plan.Image[padding] ^= 1;
        Assert.Null(StoredCodeTables.Derive(plan));
    }
}
