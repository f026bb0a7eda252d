extern alias gen;
using Qtaml.Generators.Tests.Generator;
using NetworkGraph = gen::Qtaml.Generators.Network.NetworkGraph;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;
using AnalyticSensitivity = gen::Qtaml.Generators.Planning.AnalyticSensitivity;
using Sensitivity = gen::Qtaml.Generators.Planning.Sensitivity;
using WeightLayer = gen::Qtaml.Generators.Network.WeightLayer;

namespace Qtaml.Generators.Tests.Transformer;

/// <summary>
/// The data-free sensitivity G_l on graphs: measured through the Jacobian at synthetic inputs (Planning/Sensitivity.cs)
/// and estimated from the weights alone (Planning/AnalyticSensitivity.cs), what their reasoning promises.
/// </summary>
public class SensitivityTests
{
    private static Dictionary<string, double> Estimate(byte[] onnx, double inputMeanSquare, bool analytic = false)
    {
        NetworkGraph graph = OnnxReader.Read("model.onnx", onnx);
        double[] g = analytic ? AnalyticSensitivity.Estimate(graph, inputMeanSquare) : Sensitivity.Estimate(graph, inputMeanSquare);
        return graph.Layers.OfType<WeightLayer>().Select((layer, i) => (layer.Name, G: g[i])).ToDictionary(p => p.Name, p => p.G);
    }

    [Fact]
    public void Attention_values_and_output_projection_outweigh_queries_and_keys()
    {
        // Errors in Q and K reach the output only through a softmax's Jacobian; errors in V and the output
        // projection pass through the attention average unchanged.
        Dictionary<string, double> g = Estimate(SampleTransformerTests.Model, 0.11);
        Assert.All(new[] { "attn_q", "attn_k", "attn_v", "attn_out", "token_embedding", "position_embedding" }, name => Assert.True(g[name] > 0, name));
        Assert.True(Math.Min(g["attn_v"], g["attn_out"]) > 2 * Math.Max(g["attn_q"], g["attn_k"]),
            $"q {g["attn_q"]:G3}, k {g["attn_k"]:G3}, v {g["attn_v"]:G3}, out {g["attn_out"]:G3}");
    }

    [Fact]
    public void The_input_scale_cancels_in_a_chain_but_not_across_a_LayerNorm()
    {
        // From the weights alone: in a chain every G_l is proportional to E[x²] of the input, so their ratios (and
        // the plan, and the normalised G_l) do not move.
        Dictionary<string, double> unit = Estimate(TestModels.Mlp().Build(new long[] { 1, 10 }), 1, analytic: true), tenth = Estimate(TestModels.Mlp().Build(new long[] { 1, 10 }), 0.1, analytic: true);
        foreach (string name in unit.Keys) Assert.Equal(1, tenth[name] / unit[name], 9);

        // The encoder: LayerNorm divides by its input's scale, so the token embedding (before it) loses weight
        // against V (after it) as the input gets smaller (not in proportion: the residual stream it feeds shrinks too).
        Dictionary<string, double> big = Estimate(SampleTransformerTests.Model, 1, analytic: true), small = Estimate(SampleTransformerTests.Model, 0.11, analytic: true);
        Assert.True(small["token_embedding"] / small["attn_v"] < big["token_embedding"] / big["attn_v"] * 0.75,
            $"token/V: {small["token_embedding"] / small["attn_v"]:G3} at E[x²] = 0.11, {big["token_embedding"] / big["attn_v"]:G3} at 1");
    }
}
