extern alias gen;
using Qtaml.Generators.Tests.Support;
using AnalyticSensitivity = gen::Qtaml.Generators.Planning.AnalyticSensitivity;
using NetworkGraph = gen::Qtaml.Generators.Network.NetworkGraph;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;
using Sensitivity = gen::Qtaml.Generators.Planning.Sensitivity;

namespace Qtaml.Generators.Tests.Plans;

/// <summary>
/// Data-free sensitivities cannot overflow: on chains of 2 to 1,000 dense layers whose weights make activations
/// explode (a gain of about 5 per layer, 10^700 after 1,000) or vanish, plain and with residual connections, every
/// G_l is finite, in [0, 1], and the largest is 1, whether it is measured through the Jacobian at synthetic inputs
/// or (where those overflow a double) estimated from the weights in the log domain.
/// </summary>
public class SensitivityBoundTests
{
    private static NetworkGraph Chain(int depth, double scale, bool residual)
    {
        var builder = new OnnxModelBuilder(new long[] { 1, 8 }, seed: depth);
        for (int i = 0; i < depth; i++)
        {
            string before = builder.Current;
            builder.Gemm(8, 8, scale).Relu();
            if (residual) builder.AddValue(before);
        }
        byte[] model = builder.Gemm(8, 4, scale).Softmax().Build(new long[] { 1, 4 });
        return OnnxReader.Read("chain.onnx", model);
    }

    private static void AssertBounded(string what, double[] sensitivity, int layers)
    {
        Assert.Equal(layers, sensitivity.Length);
        Assert.All(sensitivity, g => Assert.True(g >= 0 && g <= 1, $"{what}: G = {g}"));
        Assert.Equal(1, sensitivity.Max());
    }

    [Theory]
    [InlineData(2, 2.0, false)]
    [InlineData(10, 2.0, false)]
    [InlineData(100, 2.0, false)]
    [InlineData(1000, 2.0, false)]
    [InlineData(1000, 0.2, false)]
    [InlineData(100, 2.0, true)]
    [InlineData(1000, 1.0, true)]
    public void Data_free_sensitivities_are_finite_and_normalised_at_any_depth(int depth, double scale, bool residual)
    {
        NetworkGraph graph = Chain(depth, scale, residual);
        string what = $"{depth} layers, weights within ±{scale}{(residual ? ", residual" : "")}";
        AssertBounded(what + ", as the build estimates", Sensitivity.Estimate(graph, 1, TestContext.Current.CancellationToken), depth + 1);
        AssertBounded(what + ", from the weights", AnalyticSensitivity.Estimate(graph, 1), depth + 1);
    }

    [Fact]
    public void Where_activations_stay_within_a_double_the_sensitivities_are_measured_through_the_jacobian()
    {
        NetworkGraph graph = Chain(10, 0.9, residual: false);
        double[]? measured = Sensitivity.Measure(graph, 1, TestContext.Current.CancellationToken);
        Assert.NotNull(measured);
        Assert.All(measured!, g => Assert.True(double.IsFinite(g) && g >= 0, $"G = {g}"));
        // A layer of eight ReLUs can be off for all four synthetic inputs, so a measured G_l may be 0 (the last cannot);
        // the build's estimate keeps such a layer above a thousandth of its weights-only estimate.
        Assert.True(measured![^1] > 0);
        Assert.All(Sensitivity.Estimate(graph, 1, TestContext.Current.CancellationToken), g => Assert.True(g > 0, $"G = {g}"));
    }
}
