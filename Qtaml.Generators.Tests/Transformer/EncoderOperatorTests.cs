using Qtaml.Generators.Tests.Support;
using Qtaml.Tools;

namespace Qtaml.Generators.Tests.Transformer;

/// <summary>
/// Each encoder operator in the forms exporters write it, in small graphs over a [batch, 6, 8] input, generated
/// (float path) against ONNX Runtime on 50 seeded inputs, within 1e-5 (float rounding order and erf's 1.5e-7).
/// </summary>
public class EncoderOperatorTests
{
    private const int Tokens = 6, Width = 8;

    private static float[] Random(Random random, int count, double scale = 1) =>
        Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();

    /// <summary>
    /// The generated code against ONNX Runtime over 50 seeded inputs in [−2, 2], within 1e-5 (relative where an
    /// output exceeds 1). Float path by default; with <paramref name="bits"/>, the quantized path against ONNX
    /// Runtime on the same model with every weight replaced by its dequantized value.
    /// </summary>
    private static void AssertMatchesOnnxRuntime(byte[] model, int outputs, int tokens = Tokens, int width = Width, int? bits = null, int seed = 5)
    {
        byte[] referenceModel = bits is int b ? DequantizedOnnx.Rewrite(model, b) : model;
        string arguments = bits is null ? ", Quantize = false" : $", Bits = {bits}, FlipProbability = 0.0, EccBudget = 0.0";
        using var reference = new OnnxRuntimeReference(referenceModel, new long[] { 1, tokens, width });
        (Func<float[], float[]> run, _) = SampleTransformerTests.Compile(model, arguments);
        var random = new Random(seed);
        double largest = 0;
        for (int n = 0; n < 50; n++)
        {
            float[] input = Random(random, tokens * width, 2);
            float[] expected = reference.Run(input), actual = run(input);
            Assert.Equal(outputs, expected.Length);
            Assert.Equal(outputs, actual.Length);
            for (int i = 0; i < outputs; i++) largest = Math.Max(largest, Math.Abs(expected[i] - actual[i]) / Math.Max(1, Math.Abs(expected[i])));
        }
        Assert.True(largest <= 1e-5, $"largest (relative) difference from ONNX Runtime: {largest:G3}");
    }

    private static (OnnxGraphWriter Graph, string Input) Start() 
    {
        var g = new OnnxGraphWriter("ops");
        return (g, g.Input("input", new long?[] { 1, Tokens, Width }));
    }

    [Theory]
    [InlineData(8)]
    [InlineData(6)]
    public void Quantized_tiny_encoder_matches_OnnxRuntime_on_the_same_quantized_weights(int bits) =>
        AssertMatchesOnnxRuntime(TinyEncoder.Build(6), TinyEncoder.Classes, TinyEncoder.Tokens, TinyEncoder.Width, bits, seed: 8);

    [Fact]
    public void Decomposed_layer_normalization_matches_OnnxRuntime()
    {
        // What older exporters write for LayerNorm: mean, centre, square, mean, add ε, root, divide, scale, shift.
        (OnnxGraphWriter g, string x) = Start();
        var random = new Random(1);
        string mean = g.Node("ReduceMean", new[] { x }, OnnxProto.Ints("axes", -1), OnnxProto.Int("keepdims", 1));
        string centred = g.Node("Sub", new[] { x, mean });
        string squared = g.Node("Pow", new[] { centred, g.Scalar("two", 2f) });
        string variance = g.Node("ReduceMean", new[] { squared }, OnnxProto.Ints("axes", -1), OnnxProto.Int("keepdims", 1));
        string deviation = g.Node("Sqrt", new[] { g.Node("Add", new[] { variance, g.Scalar("eps", 1e-5f) }) });
        string normalized = g.Node("Div", new[] { centred, deviation });
        string scaled = g.Node("Mul", new[] { normalized, g.Constant("gamma", new long[] { Width }, Random(random, Width)) });
        string shifted = g.Node("Add", new[] { scaled, g.Constant("beta", new long[] { Width }, Random(random, Width)) });
        AssertMatchesOnnxRuntime(g.Build(shifted, new long?[] { 1, Tokens, Width }, "tests", 13), Tokens * Width);
    }

    [Fact]
    public void Gelu_operator_tanh_sigmoid_and_layer_normalization_match_OnnxRuntime()
    {
        (OnnxGraphWriter g, string x) = Start();
        var random = new Random(2);
        string norm = g.Node("LayerNormalization", new[] { x, g.Constant("gamma", new long[] { Width }, Random(random, Width)) }, OnnxProto.Int("axis", 2), OnnxProto.Float("epsilon", 1e-6f));
        string gelu = g.Node("Gelu", new[] { norm });
        string tanh = g.Node("Tanh", new[] { gelu });
        string sigmoid = g.Node("Sigmoid", new[] { norm });
        string sum = g.Node("Add", new[] { tanh, sigmoid });
        AssertMatchesOnnxRuntime(g.Build(sum, new long?[] { 1, Tokens, Width }, "tests", 20), Tokens * Width);
    }

    [Fact]
    public void Class_token_concat_attention_and_first_token_readout_match_OnnxRuntime()
    {
        // A [CLS] token prepended with Concat, single-head self-attention with a MatMul of Q by Kᵀ (Transpose
        // without the batch axis moving), a softmax over the last axis, and a Gemm head on the flattened result.
        (OnnxGraphWriter g, string x) = Start();
        var random = new Random(3);
        string withClass = g.Node("Concat", new[] { g.Constant("cls", new long[] { 1, 1, Width }, Random(random, Width)), x }, OnnxProto.Int("axis", 1));
        string Project(string name) => g.Node("MatMul", new[] { withClass, g.Constant(name, new long[] { Width, Width }, Random(random, Width * Width, 0.5)) });
        string q = Project("wq"), k = Project("wk"), v = Project("wv");
        string kt = g.Node("Transpose", new[] { k }, OnnxProto.Ints("perm", 0, 2, 1));
        string scores = g.Node("Div", new[] { g.Node("MatMul", new[] { q, kt }), g.Scalar("root", MathF.Sqrt(Width)) });
        string mixed = g.Node("MatMul", new[] { g.Node("Softmax", new[] { scores }, OnnxProto.Int("axis", -1)), v });
        string flat = g.Node("Flatten", new[] { mixed }, OnnxProto.Int("axis", 1));
        int features = (Tokens + 1) * Width;
        string logits = g.Node("Gemm", new[] { flat, g.Constant("head", new long[] { 4, features }, Random(random, 4 * features, 0.2)), g.Constant("head_b", new long[] { 4 }, Random(random, 4)) }, OnnxProto.Int("transB", 1));
        AssertMatchesOnnxRuntime(g.Build(logits, new long?[] { 1, 4 }, "tests", 13), 4);
    }

    [Fact]
    public void Broadcast_arithmetic_and_a_position_table_gather_match_OnnxRuntime()
    {
        (OnnxGraphWriter g, string x) = Start();
        var random = new Random(4);
        string positions = g.Node("Gather", new[] { g.Constant("table", new long[] { 10, Width }, Random(random, 10 * Width)), g.Int64s("ids", new long[] { 9, 0, 3, 3, 1, -1 }) }, OnnxProto.Int("axis", 0));
        string embedded = g.Node("Add", new[] { x, positions });
        string columns = g.Node("Mul", new[] { embedded, g.Constant("per_token", new long[] { Tokens, 1 }, Random(random, Tokens)) });
        string ratio = g.Node("Div", new[] { g.Scalar("one", 1f), g.Node("Add", new[] { g.Node("Abs", new[] { columns }), g.Scalar("half", 0.5f) }) });
        string mean = g.Node("ReduceMean", new[] { g.Node("Sub", new[] { ratio, embedded }) }, OnnxProto.Ints("axes", 1), OnnxProto.Int("keepdims", 0));
        AssertMatchesOnnxRuntime(g.Build(mean, new long?[] { 1, Width }, "tests", 13), Width);
    }

    /// <summary>A chain (each node reads the one before) of operators only the graph emitter writes: a projection shared by every token, then Tanh, then a softmax per token.</summary>
    private static byte[] TokenwiseChain(int tokens = Tokens, int outputs = 5)
    {
        var g = new OnnxGraphWriter("ops");
        string x = g.Input("input", new long?[] { 1, tokens, Width });
        var random = new Random(9);
        string projected = g.Node("MatMul", new[] { x, g.Constant("w", new long[] { Width, outputs }, Random(random, Width * outputs, 0.6)) });
        string squashed = g.Node("Tanh", new[] { projected });
        string probabilities = g.Node("Softmax", new[] { squashed }, OnnxProto.Int("axis", -1));
        return g.Build(probabilities, new long?[] { 1, tokens, outputs }, "tests", 13);
    }

    [Fact]
    public void A_chain_of_tokenwise_operators_matches_OnnxRuntime() => AssertMatchesOnnxRuntime(TokenwiseChain(), Tokens * 5);

    [Theory]
    [InlineData(6, 5)]     // fewer outputs than a vector
    [InlineData(5, 11)]    // an odd last row; a row that ends mid-vector
    [InlineData(7, 16)]    // whole vectors
    public void A_quantized_projection_shared_by_every_token_matches_OnnxRuntime_on_the_same_quantized_weights(int tokens, int outputs) =>
        AssertMatchesOnnxRuntime(TokenwiseChain(tokens, outputs), tokens * outputs, tokens, bits: 8, seed: 6);

    [Fact]
    public void A_mean_over_tokens_of_rows_that_are_not_whole_vectors_matches_OnnxRuntime()
    {
        // 11 features: one whole vector and one overlapping the first, in the vectorized ReduceMean.
        (OnnxGraphWriter g, string x) = Start();
        var random = new Random(12);
        string projected = g.Node("MatMul", new[] { x, g.Constant("w", new long[] { Width, 11 }, Random(random, Width * 11, 0.5)) });
        string mean = g.Node("ReduceMean", new[] { projected }, OnnxProto.Ints("axes", 1), OnnxProto.Int("keepdims", 0));
        AssertMatchesOnnxRuntime(g.Build(mean, new long?[] { 1, 11 }, "tests", 13), 11);
    }
}
