using Qtaml.Tools;

namespace Qtaml.Generators.Tests.Support;

/// <summary>
/// A small but complete encoder block in the sample transformer's form (4 tokens of 8, two heads): position
/// Gather, LayerNormalization, Q/K/V by MatMul + Add, heads by Reshape and Transpose, scaled Softmax attention,
/// erf GELU, residual Adds, ReduceMean and a Gemm head. Small enough to mutate ten thousand times.
/// </summary>
internal static class TinyEncoder
{
    public const int Tokens = 4, Width = 8, Heads = 2, Classes = 3;

    public static byte[] Build(int seed)
    {
        var random = new Random(seed);
        float[] R(int n, double scale = 0.5) => Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();
        var g = new OnnxGraphWriter("tiny-encoder");
        string x = g.Input("input", new long?[] { null, Tokens, Width });
        string e = g.Node("Add", new[] { x, g.Node("Gather", new[] { g.Constant("pos", new long[] { Tokens, Width }, R(Tokens * Width)), g.Int64s("ids", new long[] { 0, 1, 2, 3 }) }, OnnxProto.Int("axis", 0)) });
        string n1 = g.Node("LayerNormalization", new[] { e, g.Constant("g1", new long[] { Width }, R(Width)), g.Constant("b1", new long[] { Width }, R(Width)) }, OnnxProto.Int("axis", -1));
        string Linear(string name, string input, int inputs, int outputs) =>
            g.Node("Add", new[] { g.Node("MatMul", new[] { input, g.Constant(name, new long[] { inputs, outputs }, R(inputs * outputs)) }), g.Constant(name + "_b", new long[] { outputs }, R(outputs, 0.1)) });
        int splits = 0;
        string Split(string input, params long[] perm) =>
            g.Node("Transpose", new[] { g.Node("Reshape", new[] { input, g.Int64s("split" + splits++, new long[] { 1, Tokens, Heads, Width / Heads }) }) }, OnnxProto.Ints("perm", perm));
        string q = Split(Linear("wq", n1, Width, Width), 0, 2, 1, 3), k = Split(Linear("wk", n1, Width, Width), 0, 2, 3, 1), v = Split(Linear("wv", n1, Width, Width), 0, 2, 1, 3);
        string p = g.Node("Softmax", new[] { g.Node("Mul", new[] { g.Node("MatMul", new[] { q, k }), g.Scalar("scale", 0.5f) }) }, OnnxProto.Int("axis", -1));
        string merged = g.Node("Reshape", new[] { g.Node("Transpose", new[] { g.Node("MatMul", new[] { p, v }) }, OnnxProto.Ints("perm", 0, 2, 1, 3)), g.Int64s("merge", new long[] { 1, Tokens, Width }) });
        string h = g.Node("Add", new[] { Linear("wo", merged, Width, Width), e });
        string u = Linear("up", h, Width, 2 * Width);
        string gelu = g.Node("Mul", new[] { g.Node("Mul", new[] { u, g.Node("Add", new[] { g.Node("Erf", new[] { g.Node("Div", new[] { u, g.Scalar("sqrt2", MathF.Sqrt(2)) }) }), g.Scalar("one", 1f) }) }), g.Scalar("half", 0.5f) });
        string z = g.Node("Add", new[] { Linear("down", gelu, 2 * Width, Width), h });
        string pooled = g.Node("ReduceMean", new[] { z }, OnnxProto.Ints("axes", 1), OnnxProto.Int("keepdims", 0));
        string logits = g.Node("Gemm", new[] { pooled, g.Constant("head", new long[] { Classes, Width }, R(Classes * Width)), g.Constant("head_b", new long[] { Classes }, R(Classes, 0.1)) }, OnnxProto.Int("transB", 1));
        return g.Build(logits, new long?[] { null, Classes }, "tests", 17);
    }
}
