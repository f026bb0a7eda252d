using System.Reflection;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// No generated method is so large that the JIT gives up optimizing it: above 60,000 bytes of IL the JIT compiles a
/// method with minimal optimization (DEFAULT_MIN_OPTS_CODE_SIZE in the JIT's jit.h), and its cost per method grows
/// faster than the method. Checked on the compiled assemblies' IL, read back by reflection.
/// </summary>
public class MethodSizeTests
{
    /// <summary>The IL size above which the JIT switches to minimal optimization.</summary>
    private const int JitOptimizedIl = 60_000;

    private static IEnumerable<(string Name, int Il)> MethodSizes(Type type) =>
        type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Select(m => (type.FullName + "." + m.Name, m.GetMethodBody()?.GetILAsByteArray()?.Length ?? 0))
            .Concat(type.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic).SelectMany(MethodSizes));

    [Fact]
    public void No_method_of_the_sample_models_exceeds_what_the_JIT_optimizes()
    {
        // The models' public types and their implementations (file-local classes in Qtaml.Generated).
        Type[] models = typeof(Qtaml.Sample.Models.Digits).Assembly.GetTypes().Where(t => t.Namespace is "Qtaml.Sample.Models" or "Qtaml.Generated" && !t.IsNested).ToArray();
        Assert.Contains(models, t => t.Namespace == "Qtaml.Generated");
        Assert.NotEmpty(models);
        (string name, int il) = models.SelectMany(MethodSizes).MaxBy(m => m.Il);
        Assert.True(il < JitOptimizedIl, $"{name} is {il:N0} bytes of IL");
    }

    [Fact]
    public void Every_layer_kernel_is_compiled_fully_optimized_at_its_first_call()
    {
        // Tiered compilation would run a kernel's loops unoptimized for its first ~30 calls (docs/benchmarks.md, "First
        // calls": the wide CNN's first 30 inferences took 273 ms that way, 50 ms so).
        MethodInfo[] kernels = typeof(Qtaml.Sample.Models.Digits).Assembly.GetTypes().Where(t => t.Namespace == "Qtaml.Generated")
            .SelectMany(t => t.GetMethods(BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.Name.StartsWith("Layer", StringComparison.Ordinal)).ToArray();
        Assert.True(kernels.Length > 20, $"{kernels.Length} layer kernels");
        Assert.All(kernels, m => Assert.True(m.MethodImplementationFlags.HasFlag(MethodImplAttributes.AggressiveOptimization), m.DeclaringType!.Name + "." + m.Name));
    }

    /// <summary>A chain of <paramref name="depth"/> elementwise steps between two weight layers, 8-bit codes with no flips (so ONNX Runtime on the dequantized file is the reference).</summary>
    private static byte[] ChainModel(int depth)
    {
        var builder = new OnnxModelBuilder(new long[] { 1, 8 }, seed: 3).Gemm(8, 8, scale: 2.0);
        for (int i = 0; i < depth; i++) builder.Node(i % 2 == 0 ? "Sigmoid" : "Tanh", Array.Empty<string>());
        return builder.Gemm(8, 4, scale: 2.0).Build(new long[] { 1, 4 });
    }

    private static (string Source, Assembly Assembly) Chain(int depth)
    {
        byte[] model = ChainModel(depth);
        var result = GeneratorHarness.Run(TestModels.Consumer("Models/model.onnx", ", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0"), new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        Assert.DoesNotContain(result.GeneratorDiagnostics, d => d.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        return (result.Source, GeneratorHarness.CompileAndLoad(result.Output));
    }

    [Fact]
    public void The_largest_method_does_not_grow_with_the_number_of_steps()
    {
        // 300 and 600 steps: one Forward of either would be 2 parts' worth and 4 parts' worth; split, the largest
        // method is one part (or one kernel) whatever the depth.
        (string shortSource, Assembly shortChain) = Chain(300);
        (string longSource, Assembly longChain) = Chain(600);
        Assert.Contains("ForwardPart3(", shortSource, StringComparison.Ordinal);
        Assert.Contains("ForwardPart5(", longSource, StringComparison.Ordinal);
        (string shortName, int shortIl) = MethodSizes(GeneratorHarness.Implementation(shortChain, "Model")).MaxBy(m => m.Il);
        (string longName, int longIl) = MethodSizes(GeneratorHarness.Implementation(longChain, "Model")).MaxBy(m => m.Il);
        Assert.True(longIl <= shortIl * 1.1, $"300 steps: largest {shortName}, {shortIl:N0} bytes of IL; 600 steps: {longName}, {longIl:N0}");
        Assert.True(longIl < JitOptimizedIl, $"{longName} is {longIl:N0} bytes of IL");

        // Split, the chain computes what ONNX Runtime computes on the same codes: every part ran, in order, on the right slices.
        using var reference = new OnnxRuntimeReference(DequantizedOnnx.Rewrite(ChainModel(600), 8), new long[] { 1, 8 });
        for (int seed = 0; seed < 4; seed++)
        {
            float[] input = TestModels.Input(8, seed), output = new float[4];
            longChain.GetType("Models.Harness")!.GetMethod("Run")!.Invoke(null, new object[] { input, output });
            float[] expected = reference.Run(input);
            for (int i = 0; i < 4; i++) Assert.True(Math.Abs(output[i] - expected[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"output {i}: {output[i]} against ONNX Runtime's {expected[i]}");
        }
    }
}
