using System.Reflection;
using Qtaml.Generators.Tests.Generator;
using Qtaml.Generators.Tests.Support;
using Qtaml.Threading;
using Qtaml.Tools;

namespace Qtaml.Generators.Tests.Threading;

/// <summary>
/// A run given a <see cref="WorkerPool"/> splits the large convolutions (table and depthwise kernels) across the
/// pool's threads: the outputs are bit for bit those of the single-threaded run, whatever the thread count, and the
/// single-threaded run still matches ONNX Runtime; a run on the pool allocates nothing after the thread's first.
/// </summary>
public class SplitRunTests
{
    private static readonly long[] InputShape = { 1, 8, 48, 48 };

    /// <summary>
    /// Three layers of more than a million multiply-adds each: a 1x1 convolution reading the caller's input (which it
    /// does not pad: a split step copies it where the workers can reach it), a depthwise 3x3 reading its output through
    /// a channel shuffle (4 x 16: done as the calling thread stages it, FoldChannelShuffles), a 3x3 stride-2
    /// convolution to 24 channels (not whole Vector512s: an overlapping last vector), then a small Gemm on one thread.
    /// </summary>
    private static byte[] Model()
    {
        var b = new OnnxModelBuilder(InputShape, seed: 5);
        return b.ConvNd(8, 64, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, scale: 0.5).Relu()
        .Node("Reshape", new[] { b.Int64Initializer("split", new long[] { 1, 4, 16, 48, 48 }) })
        .Node("Transpose", Array.Empty<string>(), OnnxModelBuilder.Ints("perm", 0, 2, 1, 3, 4))
        .Node("Reshape", new[] { b.Int64Initializer("join", new long[] { 1, 64, 48, 48 }) })
        .ConvNd(64, 64, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, group: 64, scale: 0.5)
        .ConvNd(64, 24, new[] { 3, 3 }, new[] { 2, 2 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.2).Relu()
        .Flatten().Gemm(24 * 24 * 24, 10, 0.05)
        .Build(new long[] { 1, 10 });
    }

    private const string Consumer = """
        namespace Models
        {
            [global::Qtaml.TunnelingCompensated("Models/model.onnx"ARGUMENTS)]
            public static partial class Model { }

            public static class Harness
            {
                public static void Run(float[] input, float[] output) => Model.Run(input, output);
                public static void RunOn(float[] input, float[] output, global::Qtaml.Threading.WorkerPool workers) => Model.Run(input, output, workers);
                public static void RunImageOn(global::Qtaml.Faults.WeightImage weights, float[] input, float[] output, global::Qtaml.Threading.WorkerPool workers) => Model.Run(weights, input, output, workers);
                public static global::Qtaml.Faults.WeightImage CreateWeightImage() => Model.CreateWeightImage();
            }
        }
        """;

    private static (Type Harness, string Source) Compile(byte[] model, string arguments)
    {
        var result = GeneratorHarness.Run(Consumer.Replace("ARGUMENTS", arguments, StringComparison.Ordinal), new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        Assert.Empty(result.GeneratorDiagnostics.Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
        string source = result.Source;
        // Optimized, as an app ships it (a debug build may allocate where the release build does not).
        Microsoft.CodeAnalysis.Compilation release = result.Output.WithOptions(result.Output.Options.WithOptimizationLevel(Microsoft.CodeAnalysis.OptimizationLevel.Release));
        return (GeneratorHarness.CompileAndLoad(release).GetType("Models.Harness")!, source);
    }

    private static float[] Input(int seed) => SignedInput(InputShape, seed);

    /// <summary>Seeded inputs in [-1, 1) for a model of input shape <paramref name="shape"/>.</summary>
    private static float[] SignedInput(long[] shape, int seed) => TestModels.Input((int)shape.Aggregate(1L, (a, b) => a * b), seed).Select(v => 2 * v - 1).ToArray();

    [Theory]
    [InlineData(", Quantize = false")]
    [InlineData(", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0")]
    public void A_run_on_a_pool_gives_the_single_threaded_outputs_bit_for_bit_and_ONNX_Runtimes(string arguments)
    {
        byte[] model = Model();
        (Type harness, string source) = Compile(model, arguments);
        // The three convolutions split; the Gemm does not; the shuffle is no step (the depthwise staging does it).
        Assert.Equal(3, SplitSteps(source));
        Assert.DoesNotContain("_Transpose(", source, StringComparison.Ordinal);
        AssertSplitRunsMatch(harness, model, arguments, InputShape, new[] { 1, 2, 3 }, inputs: 3);
    }

    /// <summary>
    /// Each input run alone and on a pool of each thread count: the pool's outputs are the lone run's bit for bit, and
    /// those are ONNX Runtime's (on the dequantized file for an 8-bit build) within 1e-4, relative above 1.
    /// </summary>
    private static void AssertSplitRunsMatch(Type harness, byte[] model, string arguments, long[] inputShape, int[] threadCounts, int inputs)
    {
        MethodInfo run = harness.GetMethod("Run")!, runOn = harness.GetMethod("RunOn")!;
        bool quantized = arguments.Contains("Bits", StringComparison.Ordinal);
        using var reference = new OnnxRuntimeReference(quantized ? DequantizedOnnx.Rewrite(model, 8) : model, inputShape);
        foreach (int threads in threadCounts)
        {
            using var workers = new WorkerPool(threads);
            for (int seed = 0; seed < inputs; seed++)
            {
                float[] values = SignedInput(inputShape, seed), expected = reference.Run(values), alone = new float[expected.Length], split = new float[expected.Length];
                run.Invoke(null, new object[] { values, alone });
                runOn.Invoke(null, new object[] { values, split, workers });
                Assert.Equal(alone, split);
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(Math.Abs(expected[i] - alone[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"{threads} threads, input {seed}, output {i}: ONNX Runtime {expected[i]}, generated {alone[i]}");
            }
        }
    }

    /// <summary>
    /// Token-wise projections: 41 rows (pairs and a last row alone) through a MatMul to 601 outputs (not whole vectors:
    /// the row's last outputs go through a buffer), 3M multiply-adds, split by rows; then a small one on one thread.
    /// </summary>
    private static byte[] Projections() => new OnnxModelBuilder(new long[] { 1, 41, 120 }, seed: 9)
        .Relu().MatMulAdd(120, 601, 0.2).Relu().MatMulAdd(601, 7, 0.05)
        .Build(new long[] { 1, 41, 7 });

    [Theory]
    [InlineData(", Quantize = false")]
    [InlineData(", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0")]
    public void Projections_split_by_rows_give_the_single_threaded_outputs_bit_for_bit_and_ONNX_Runtimes(string arguments)
    {
        byte[] model = Projections();
        (Type harness, string source) = Compile(model, arguments);
        Assert.Equal(1, SplitSteps(source));
        AssertSplitRunsMatch(harness, model, arguments, new long[] { 1, 41, 120 }, new[] { 2, 3 }, inputs: 2);
    }

    /// <summary>
    /// A bottleneck block whose last 1x1 convolution (2.4M multiply-adds) adds the block's input back, the Add and the
    /// ReLU after it folded into its stores (FuseResidualAdds), split by positions; 48 x 48 positions with 32 channels.
    /// </summary>
    private static byte[] Bottleneck()
    {
        var builder = new OnnxModelBuilder(InputShape, seed: 6)
            .ConvNd(8, 32, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, scale: 0.5).Relu();
        string skip = builder.Current;
        return builder
            .ConvNd(32, 32, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.15).Relu()
            .ConvNd(32, 32, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, scale: 0.3)
            .AddValue(skip).Relu()
            .ConvNd(32, 8, new[] { 4, 4 }, new[] { 4, 4 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, scale: 0.1)
            .Flatten().Gemm(8 * 12 * 12, 10, 0.05)
            .Build(new long[] { 1, 10 });
    }

    [Theory]
    [InlineData(", Quantize = false")]
    [InlineData(", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0")]
    public void A_residual_add_folded_into_a_split_convolution_gives_the_single_threaded_outputs_bit_for_bit_and_ONNX_Runtimes(string arguments)
    {
        byte[] model = Bottleneck();
        (Type harness, string source) = Compile(model, arguments);
        // The Add is no step of its own: the convolution before it reads the block's input as it stores.
        Assert.DoesNotContain("AddThenRelu(", source, StringComparison.Ordinal);
        Assert.Contains("plus the residual (its Add fused), ReLU fused", source, StringComparison.Ordinal);
        // The 3x3 (21M multiply-adds) and the 1x1 that adds the residual split; the first 1x1 (0.6M) does not.
        Assert.Equal(2, SplitSteps(source));
        AssertSplitRunsMatch(harness, model, arguments, InputShape, new[] { 2, 3 }, inputs: 2);
    }

    /// <summary>
    /// Window kernels of several passes of output channels, which split by (pass, block) pairs: 72 channels (Vector512:
    /// a pass of 3 vectors, then a tail pass of 2), 160 at stride 2 (a loop of two passes and a tail), 200 on a 5x5 map
    /// (a last vector overlapping the one before it with Vector512; 4 blocks for 13 vectors), then a pointwise one to
    /// 216 (1.08M multiply-adds: a loop of whole chunks and a tail pass, as the 1000-class head of SqueezeNet has).
    /// </summary>
    private static byte[] WidePasses() => new OnnxModelBuilder(new long[] { 1, 8, 20, 20 }, seed: 8)
        .ConvNd(8, 72, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.4).Relu()
        .ConvNd(72, 160, new[] { 3, 3 }, new[] { 2, 2 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.12).Relu()
        .ConvNd(160, 200, new[] { 3, 3 }, new[] { 2, 2 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.08).Relu()
        .ConvNd(200, 216, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, scale: 0.08).Relu()
        .Flatten().Gemm(216 * 5 * 5, 10, 0.02)
        .Build(new long[] { 1, 10 });

    [Theory]
    [InlineData(", Quantize = false")]
    [InlineData(", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0")]
    public void Window_kernels_split_by_pass_and_block_give_the_single_threaded_outputs_bit_for_bit_and_ONNX_Runtimes(string arguments)
    {
        byte[] model = WidePasses();
        (Type harness, string source) = Compile(model, arguments);
        Assert.Equal(4, SplitSteps(source));
        // A part runs only its pairs' blocks of each pass: the looped passes' and the lone or tail passes'.
        Assert.Contains("if (end > before && first < before + ", source, StringComparison.Ordinal);
        Assert.Contains("nuint before = (chunk / ", source, StringComparison.Ordinal);
        Assert.Contains("its blocks among this part's (pass, block) pairs", source, StringComparison.Ordinal);
        // 8-bit: each part converts its own passes' codes on its own thread, not the whole table first.
        if (arguments.Contains("Bits", StringComparison.Ordinal)) Assert.Contains("split.RunDecoding(", source, StringComparison.Ordinal);
        AssertSplitRunsMatch(harness, model, arguments, new long[] { 1, 8, 20, 20 }, new[] { 2, 3, 5 }, inputs: 2);
    }

    /// <summary>
    /// A classifier's head in small: a 3x3 convolution to 264 channels and a pointwise one to 1000, whole vectors of 8
    /// but not of 16, so their outputs are padded to whole panels of 16 (WeightOrder.PadsToPanels), both split across
    /// threads; with 8-bit codes a part converts the last panel's 8 channels into rows of 16 on its own thread.
    /// </summary>
    private static byte[] PaddedHead() => new OnnxModelBuilder(new long[] { 1, 24, 5, 5 }, seed: 11)
        .ConvNd(24, 264, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.15).Relu()
        .ConvNd(264, 1000, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, scale: 0.06).Relu()
        .Flatten().Gemm(1000 * 5 * 5, 10, 0.01)
        .Build(new long[] { 1, 10 });

    [Theory]
    [InlineData(", Quantize = false")]
    [InlineData(", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0")]
    public void Outputs_padded_to_whole_panels_split_across_threads_give_the_single_threaded_outputs_bit_for_bit_and_ONNX_Runtimes(string arguments)
    {
        byte[] model = PaddedHead();
        (Type harness, string source) = Compile(model, arguments);
        Assert.Equal(2, SplitSteps(source));
        Assert.Contains("writes channels-last (272 slots)", source, StringComparison.Ordinal);
        Assert.Contains("writes channels-last (1008 slots)", source, StringComparison.Ordinal);
        AssertSplitRunsMatch(harness, model, arguments, new long[] { 1, 24, 5, 5 }, new[] { 2, 3 }, inputs: 2);
    }

    /// <summary>
    /// A Fire module whose expansions (32 and 48 channels) write their channels of the Concat in place, the 3x3 one
    /// (4M multiply-adds) split across threads: each part stores into the Concat's slice, its positions 80 slots apart.
    /// </summary>
    private static byte[] FireInPlace() => new OnnxModelBuilder(new long[] { 1, 16, 24, 24 }, seed: 10)
        .Fire(16, 16, 32, 48)
        .ConvNd(80, 16, new[] { 3, 3 }, new[] { 2, 2 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.1).Relu()
        .Flatten().Gemm(16 * 12 * 12, 10, 0.05)
        .Build(new long[] { 1, 10 });

    [Theory]
    [InlineData(", Quantize = false")]
    [InlineData(", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0")]
    public void Branches_written_into_their_concat_in_place_give_the_single_threaded_outputs_bit_for_bit_and_ONNX_Runtimes(string arguments)
    {
        byte[] model = FireInPlace();
        (Type harness, string source) = Compile(model, arguments);
        Assert.Equal(2, CountOf(source, "(its Concat, written in place)"));
        Assert.DoesNotContain("_Concat(", source, StringComparison.Ordinal);
        AssertSplitRunsMatch(harness, model, arguments, new long[] { 1, 16, 24, 24 }, new[] { 2, 3 }, inputs: 2);
    }

    [Fact]
    public void A_faulted_image_run_on_a_pool_gives_the_single_threaded_outputs()
    {
        (Type harness, _) = Compile(Model(), ", Node = \"2nm\"");
        var image = (Qtaml.Faults.WeightImage)harness.GetMethod("CreateWeightImage")!.Invoke(null, null)!;
        Qtaml.Faults.TunnelingFaultModel.Symmetric(0.1).Inject(image, new int[image.Layers.Count], seed: 3);
        float[] input = Input(4), alone = new float[10], split = new float[10];
        using var one = new WorkerPool(1);
        using var workers = new WorkerPool(2);
        harness.GetMethod("RunImageOn")!.Invoke(null, new object[] { image, input, alone, one });
        harness.GetMethod("RunImageOn")!.Invoke(null, new object[] { image, input, split, workers });
        Assert.Equal(alone, split);
    }

    [Fact]
    public void A_run_on_a_pool_allocates_nothing_after_the_threads_first()
    {
        (Type harness, _) = Compile(Model(), ", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0");
        var runOn = harness.GetMethod("RunOn")!.CreateDelegate<Action<float[], float[], WorkerPool>>();
        using var workers = new WorkerPool(2);
        float[] input = Input(1), output = new float[10];
        runOn(input, output, workers);
        var run = harness.GetMethod("Run")!.CreateDelegate<Action<float[], float[]>>();
        run(input, output);
        Assert.Equal(0L, BytesPerBatch(() => run(input, output)));
        Assert.Equal(0L, BytesPerBatch(() => runOn(input, output, workers)));
    }

    /// <summary>
    /// The bytes the calling thread allocates over 5 calls, in the last of up to 3 batches: the runtime's one-time costs
    /// (tiering, a type load; 7,944 bytes seen once in 4 runs with other tests beside it) land in one batch at most,
    /// while an allocation per call shows in every batch.
    /// </summary>
    private static long BytesPerBatch(Action call)
    {
        long bytes = -1;
        for (int batch = 0; batch < 3 && bytes != 0; batch++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 5; i++) call();
            bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        return bytes;
    }

    /// <summary>The steps a run on a pool splits: those handed over whole, and those whose parts convert their own codes by pass.</summary>
    private static int SplitSteps(string source) => CountOf(source, "split.Run(") + CountOf(source, "split.RunDecoding(");

    private static int CountOf(string text, string part)
    {
        int count = 0;
        for (int at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}
