using System.Reflection;
using Google.Protobuf;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// Names in a weight file are attacker-controlled text. Whatever they hold, the generated source must declare
/// exactly what the same model with plain names declares: the same tokens, the same types and members.
/// </summary>
public class InjectionTests
{
    /// <summary>Every class of character that ends or subverts an output context, each with a payload after it.</summary>
    public static TheoryData<string> HostileNames => new()
    {
        "a\n[System.Runtime.CompilerServices.ModuleInitializer] internal static void Pwn() { }",
        "a\r\nclass Injected { }",
        "a\rclass Injected { }",
        "a\u0085class Injected { }",
        "a\u2028[System.Runtime.CompilerServices.ModuleInitializer] internal static void Pwn() { }",
        "a\u2029class Injected { }",
        "a */ class Injected { } /*",
        "</summary><see cref=\"Injected\"/>&amp;<![CDATA[x]]>",
        "\"; class Injected { } //",
        "\\u000A class Injected { }",
        "\u202Eevil\u202C\u2066\u2069\u200F",
        "nul\0here",
        "lone\uD800surrogate\uDC00",
        "emoji \U0001F600 ok",
        "@class",
    };

    /// <summary>The tiny MLP with every node, tensor, input and output name replaced by <paramref name="hostile"/> (made unique).</summary>
    private static byte[] Renamed(string hostile)
    {
        byte[] plain = TestModels.Mlp().Build(new long[] { 1, 10 });
        ModelProto model = ModelProto.Parser.ParseFrom(plain);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        string Rename(string name) => name.Length == 0 ? name : names.TryGetValue(name, out string? renamed) ? renamed : names[name] = hostile + "#" + names.Count;
        GraphProto graph = model.Graph;
        foreach (NodeProto node in graph.Node)
        {
            node.Name = Rename(node.Name);
            for (int i = 0; i < node.Input.Count; i++) node.Input[i] = Rename(node.Input[i]);
            for (int i = 0; i < node.Output.Count; i++) node.Output[i] = Rename(node.Output[i]);
        }
        foreach (TensorProto tensor in graph.Initializer) tensor.Name = Rename(tensor.Name);
        foreach (ValueInfoProto value in graph.Input.Concat(graph.Output)) value.Name = Rename(value.Name);
        graph.Name = hostile;
        model.ProducerName = hostile;
        return model.ToByteArray();
    }

    private static GeneratorHarness.Result Generate(byte[] model, string path) =>
        GeneratorHarness.Run(TestModels.Consumer(SymbolDisplay.FormatLiteral(path, quote: false)), new[] { GeneratorHarness.WeightFile(path.Replace('\n', '_'), model) });

    /// <summary>The generated tree as token kinds, literal and identifier text: what the compiler acts on, comments aside.</summary>
    private static string[] Tokens(SyntaxTree tree) => tree.GetRoot().DescendantTokens()
        .Select(t => t.IsKind(SyntaxKind.StringLiteralToken) ? "string" : t.Kind() + ":" + t.ValueText).ToArray();

    [Theory]
    [MemberData(nameof(HostileNames))]
    public void Hostile_names_in_a_weight_file_change_no_declaration_and_compile(string hostile)
    {
        GeneratorHarness.Result plain = Generate(TestModels.Mlp().Build(new long[] { 1, 10 }), "Models/model.onnx");
        GeneratorHarness.Result attacked = Generate(Renamed(hostile), "Models/model.onnx");
        Assert.Empty(attacked.GeneratorDiagnostics.Where(d => d.DefaultSeverity == DiagnosticSeverity.Error));

        SyntaxTree tree = attacked.Run.Results.Single().GeneratedSources.Single().SyntaxTree;
        Assert.Empty(tree.GetDiagnostics(TestContext.Current.CancellationToken));
        Assert.Equal(Tokens(plain.Run.Results.Single().GeneratedSources.Single().SyntaxTree), Tokens(tree));
        AssertDeclares(tree, "Model", "Compiled", "ModelImplementation", "BakedData");   // the class, its interface adapter, its implementation and data section
        // No text of the file may sit outside a comment or a string: no stray structure in the trivia either.
        Assert.DoesNotContain(tree.GetRoot(TestContext.Current.CancellationToken).DescendantTrivia(), t => t.IsKind(SyntaxKind.SkippedTokensTrivia) || t.IsKind(SyntaxKind.DisabledTextTrivia));
        Assert.DoesNotContain(tree.GetText(TestContext.Current.CancellationToken).ToString(), c => c is '\u2028' or '\u2029' or '\u0085' or '\0' or '\u202E' or '\u2066' or '\r');

        // It compiles, runs, and the layer names read back exactly as the file has them.
        Assembly assembly = GeneratorHarness.CompileAndLoad(attacked.Output);
        var info = (ModelInfo)assembly.GetType("Models.Harness")!.GetProperty("Info")!.GetValue(null)!;
        // (Protobuf strings are UTF-8: a lone surrogate was already U+FFFD in the file.)
        string asStored = System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(hostile));
        Assert.All(info.Layers, layer => Assert.StartsWith(asStored + "#", layer.Name, StringComparison.Ordinal));
    }

    /// <summary>Types a user's project may well declare, named like those the generated kernels use.</summary>
    private const string LookAlikes = """
        internal struct Vector128 { }
        internal struct Vector256<T> { }
        internal struct Span { }
        internal sealed class ReadOnlySpan<T> { }
        internal static class MemoryMarshal { }
        internal static class Unsafe { }
        internal static class Avx { }
        internal static class Avx512F { }
        internal static class Math { }
        internal static class MathF { }
        internal sealed class ArgumentException { }
        internal static class BitConverter { }
        internal static class Convert { }
        internal static class Numerics { }
        """;

    [Theory]
    [InlineData(", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0")]
    [InlineData(", Quantize = false")]
    public void Types_in_the_users_namespace_or_the_global_one_named_like_the_runtimes_capture_nothing(string arguments)
    {
        // The user's type holds only one-line forwarders naming every type from global::; the implementation lives in a
        // file-local class of Qtaml.Generated with its usings inside that namespace, so look-alikes anywhere else change
        // nothing: it compiles with no warning and computes exactly what the plain project computes.
        byte[] model = TestModels.Cnn().Build(new long[] { 1, 10 });
        string plainSource = TestModels.Consumer("Models/model.onnx", arguments);
        string crowded = plainSource.Replace("namespace Models\n{", "namespace Models\n{\n" + LookAlikes, StringComparison.Ordinal) + "\n" + LookAlikes;
        Assert.NotEqual(plainSource, crowded);
        var files = new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) };
        GeneratorHarness.Result plain = GeneratorHarness.Run(plainSource, files), attacked = GeneratorHarness.Run(crowded, files);
        Assert.Empty(attacked.GeneratorDiagnostics.Where(d => d.DefaultSeverity >= DiagnosticSeverity.Warning));
        Assert.Empty(attacked.Output.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true));
        MethodInfo Run(GeneratorHarness.Result result) => GeneratorHarness.CompileAndLoad(result.Output).GetType("Models.Harness")!.GetMethod("Run")!;
        MethodInfo expected = Run(plain), actual = Run(attacked);
        for (int seed = 0; seed < 3; seed++)
        {
            float[] input = TestModels.Input(TestModels.Cnn().InputShape.Skip(1).Aggregate(1, (a, d) => a * (int)d), seed);
            float[] a = new float[10], b = new float[10];
            expected.Invoke(null, new object[] { input, a });
            actual.Invoke(null, new object[] { input, b });
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void Names_whose_bytes_are_not_UTF_8_compile_wire_as_in_ONNX_Runtime_and_match_it()
    {
        // ONNX strings are proto2 bytes: a lone UTF-16 surrogate written as WTF-8 (ED A0 80, ED B0 80) is a valid file
        // that ONNX Runtime runs. Every node and intermediate tensor gets such a name, and two of them differ only in
        // those bytes: decoded lossily (to U+FFFD) they would be one name and the graph would wire differently.
        OnnxModelBuilder builder = TestModels.Mlp();
        ModelProto model = ModelProto.Parser.ParseFrom(builder.Build(new long[] { 1, 10 }));
        GraphProto graph = model.Graph;
        var renamed = new Dictionary<string, string>(StringComparer.Ordinal);
        string Rename(string name) => name.Length == 0 || name is "input" || graph.Output.Any(o => o.Name == name) ? name
            : renamed.TryGetValue(name, out string? r) ? r : renamed[name] = (renamed.Count % 2 == 0 ? "\uFFFD" : "\uFFFC") + "x" + renamed.Count / 2;
        foreach (NodeProto node in graph.Node)
        {
            node.Name = Rename(node.Output[0] + "#node");
            for (int i = 0; i < node.Input.Count; i++) node.Input[i] = Rename(node.Input[i]);
            for (int i = 0; i < node.Output.Count; i++) node.Output[i] = Rename(node.Output[i]);
        }
        foreach (TensorProto tensor in graph.Initializer) tensor.Name = Rename(tensor.Name);
        byte[] bytes = model.ToByteArray();
        // U+FFFD and U+FFFC (EF BF BD, EF BF BC) become the WTF-8 of U+D800 and U+DC00: same length, so nothing else moves.
        for (int i = 0; i + 2 < bytes.Length; i++)
            if (bytes[i] == 0xEF && bytes[i + 1] == 0xBF && bytes[i + 2] is 0xBD or 0xBC)
                (bytes[i], bytes[i + 1], bytes[i + 2]) = ((byte)0xED, bytes[i + 2] == 0xBD ? (byte)0xA0 : (byte)0xB0, (byte)0x80);
        Assert.Throws<InvalidProtocolBufferException>(() => ModelProto.Parser.ParseFrom(bytes));   // what Google.Protobuf alone does

        using var reference = new OnnxRuntimeReference(bytes, builder.InputShape);
        int length = (int)builder.InputShape.Skip(1).Aggregate(1L, (a, b) => a * b);
        (Func<float[], float[]> run, Assembly assembly) = OnnxRuntimeComparisonTests.Compile(bytes, ", Quantize = false");
        for (int seed = 0; seed < 4; seed++)
        {
            float[] input = TestModels.Input(length, seed), expected = reference.Run(input), actual = run(input);
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"input {seed}, output {i}: ONNX Runtime {expected[i]}, generated {actual[i]}");
        }
        // The names read back with each stray byte as U+F700 + byte, and stay distinct.
        var info = (ModelInfo)assembly.GetType("Models.Harness")!.GetProperty("Info")!.GetValue(null)!;
        Assert.All(info.Layers, layer => Assert.True(layer.Name.StartsWith("\uF7ED\uF7A0\uF780", StringComparison.Ordinal) || layer.Name.StartsWith("\uF7ED\uF7B0\uF780", StringComparison.Ordinal), layer.Name));
        Assert.Equal(info.Layers.Count, info.Layers.Select(l => l.Name).Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [InlineData("Models/a\u2028b.onnx")]
    [InlineData("Models/a\nclass Injected { }\n.onnx")]
    [InlineData("Models/</summary>\u202E.onnx")]
    public void A_hostile_path_in_the_attribute_changes_no_declaration(string path)
    {
        // A path with a line break cannot be an encoded file's header line: that case goes through the
        // QTAML001 route, whose throwing members carry the path in their message.
        GeneratorHarness.Result result = Generate(TestModels.Mlp().Build(new long[] { 1, 10 }), path);
        Assert.Equal(path.Contains('\n', StringComparison.Ordinal) ? new[] { "QTAML001" } : Array.Empty<string>(),
            result.GeneratorDiagnostics.Where(d => d.DefaultSeverity == DiagnosticSeverity.Error).Select(d => d.Id).ToArray());
        SyntaxTree tree = result.Run.Results.Single().GeneratedSources.Single().SyntaxTree;
        AssertDeclares(tree, path.Contains('\n', StringComparison.Ordinal) ? new[] { "Model", "Compiled" } : new[] { "Model", "Compiled", "ModelImplementation", "BakedData" });
        GeneratorHarness.CompileAndLoad(result.Output);
    }

    private static void AssertDeclares(SyntaxTree tree, params string[] types)
    {
        Assert.Equal(types, tree.GetRoot().DescendantNodes().OfType<BaseTypeDeclarationSyntax>().Select(t => t.Identifier.ValueText).OrderBy(n => n == "Model" ? 0 : 1).ToArray());
        Assert.DoesNotContain(tree.GetRoot().DescendantNodes().OfType<AttributeSyntax>(), a => a.Name.ToString().Contains("ModuleInitializer", StringComparison.Ordinal));
    }
}
