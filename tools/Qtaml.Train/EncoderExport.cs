using Qtaml.Tools;

namespace Qtaml.Train;

/// <summary>
/// Writes the <see cref="Encoder"/> as a standard ONNX encoder export (opset 17): MatMul + Add for every
/// projection, Gather for the position embedding, LayerNormalization, heads split by Reshape and Transpose,
/// attention as MatMul, Mul and Softmax over the last axis, the exact GELU spelled out with Erf, residual Adds,
/// ReduceMean over the tokens, a Gemm classifier and a final Softmax.
/// </summary>
internal static class EncoderExport
{
    public static byte[] Onnx(Encoder m)
    {
        int T = Encoder.Tokens, D = m.Width, H = m.Heads, Dk = m.HeadWidth, F = m.Hidden;
        var g = new OnnxGraphWriter("transformer");
        string x = g.Input("input", new long?[] { null, T, Encoder.Features });

        string Linear(string name, string input, float[] w, float[] b, int inputs, int outputs)
        {
            string product = g.Node("MatMul", name, new[] { input, g.Constant(name + ".weight", new long[] { inputs, outputs }, w) });
            return g.Node("Add", name + "_bias", new[] { product, g.Constant(name + ".bias", new long[] { outputs }, b) });
        }
        string LayerNorm(string name, string input, float[] gamma, float[] beta) =>
            g.Node("LayerNormalization", name, new[] { input, g.Constant(name + ".weight", new long[] { D }, gamma), g.Constant(name + ".bias", new long[] { D }, beta) },
                OnnxProto.Int("axis", -1), OnnxProto.Float("epsilon", 1e-5f));
        string Heads(string name, string input, long[] perm)
        {
            string split = g.Node("Reshape", name + "_split", new[] { input, g.Int64s(name + "_split.shape", new long[] { 1, T, H, Dk }) });
            return g.Node("Transpose", name + "_heads", new[] { split }, OnnxProto.Ints("perm", perm));
        }

        string tokens = Linear("token_embedding", x, m.TokenWeight, m.TokenBias, Encoder.Features, D);
        string positions = g.Node("Gather", "position_embedding", new[]
        {
            g.Constant("position_embedding.weight", new long[] { T, D }, m.Position),
            g.Int64s("position_ids", Enumerable.Range(0, T).Select(i => (long)i).ToArray()),
        }, OnnxProto.Int("axis", 0));
        string e = g.Node("Add", "embed", new[] { tokens, positions });

        string n1 = LayerNorm("ln1", e, m.Ln1Gamma, m.Ln1Beta);
        string q = Heads("q", Linear("attn_q", n1, m.Query, m.QueryBias, D, D), new long[] { 0, 2, 1, 3 });
        string k = Heads("k", Linear("attn_k", n1, m.Key, m.KeyBias, D, D), new long[] { 0, 2, 3, 1 });
        string v = Heads("v", Linear("attn_v", n1, m.Value, m.ValueBias, D, D), new long[] { 0, 2, 1, 3 });
        string scores = g.Node("MatMul", "attn_scores", new[] { q, k });
        string scaled = g.Node("Mul", "attn_scale", new[] { scores, g.Scalar("attn_scale.value", 1f / MathF.Sqrt(Dk)) });
        string weights = g.Node("Softmax", "attn_softmax", new[] { scaled }, OnnxProto.Int("axis", -1));
        string mixed = g.Node("MatMul", "attn_mix", new[] { weights, v });
        string merged = g.Node("Transpose", "attn_merge", new[] { mixed }, OnnxProto.Ints("perm", 0, 2, 1, 3));
        string joined = g.Node("Reshape", "attn_join", new[] { merged, g.Int64s("attn_join.shape", new long[] { 1, T, D }) });
        string h = g.Node("Add", "residual1", new[] { Linear("attn_out", joined, m.Output, m.OutputBias, D, D), e });

        string n2 = LayerNorm("ln2", h, m.Ln2Gamma, m.Ln2Beta);
        string u = Linear("ffn_up", n2, m.Up, m.UpBias, D, F);
        // GELU(u) = u · (1 + erf(u / √2)) / 2, as exporters write it.
        string erf = g.Node("Erf", "gelu_erf", new[] { g.Node("Div", "gelu_div", new[] { u, g.Scalar("gelu.sqrt2", MathF.Sqrt(2)) }) });
        string gelu = g.Node("Mul", "gelu_half", new[]
        {
            g.Node("Mul", "gelu_mul", new[] { u, g.Node("Add", "gelu_add", new[] { erf, g.Scalar("gelu.one", 1f) }) }),
            g.Scalar("gelu.half", 0.5f),
        });
        string z = g.Node("Add", "residual2", new[] { Linear("ffn_down", gelu, m.Down, m.DownBias, F, D), h });

        string nf = LayerNorm("ln_final", z, m.LnfGamma, m.LnfBeta);
        string pooled = g.Node("ReduceMean", "pool", new[] { nf }, OnnxProto.Ints("axes", 1), OnnxProto.Int("keepdims", 0));
        string logits = g.Node("Gemm", "classifier", new[]
        {
            pooled, g.Constant("classifier.weight", new long[] { D, m.Classes }, m.Classifier), g.Constant("classifier.bias", new long[] { m.Classes }, m.ClassifierBias),
        });
        string probabilities = g.Node("Softmax", "softmax", new[] { logits }, OnnxProto.Int("axis", -1));
        return g.Build(probabilities, new long?[] { null, m.Classes }, "Qtaml.Train", opset: 17);
    }
}
