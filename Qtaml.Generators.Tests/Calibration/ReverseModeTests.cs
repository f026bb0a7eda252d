extern alias gen;
using Qtaml.Generators.Tests.Generator;
using Qtaml.Generators.Tests.Support;
using NetworkGraph = gen::Qtaml.Generators.Network.NetworkGraph;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;
using ReferenceEvaluator = gen::Qtaml.Generators.Calibration.ReferenceEvaluator;
using WeightLayer = gen::Qtaml.Generators.Network.WeightLayer;

namespace Qtaml.Generators.Tests.Calibration;

/// <summary>
/// The reference evaluator's reverse mode (what calibration's sensitivities come from) is the derivative of its
/// forward mode: for every operator of the comparison suite and the sample networks, ⟨u, J·δ⟩ by central finite
/// differences of the forward pass equals ⟨Jᵀu, δ⟩ from one backward pass, for random u and δ, on every weight
/// layer and on the input.
/// </summary>
public class ReverseModeTests
{
    /// <summary>
    /// The comparison suite's operators but the cast to float16: a staircase whose derivative is 0 between steps,
    /// which reverse mode passes straight through on purpose, so finite differences finer than its steps do not apply.
    /// </summary>
    public static TheoryData<string> Operators => new(OperatorComparisonTests.Operators.Select(row => row.Data).Where(op => op != "CastFloat16"));

    /// <summary>
    /// Central differences in double precision at step h have truncation error O(h²) and rounding error O(1e-16/h);
    /// h = 1e-5 of the perturbed tensor's scale puts both near 1e-10 of the output's scale, far inside the 1e-6
    /// relative tolerance. A kink (ReLU at 0, a max changing hands) lies within h of a random point with probability
    /// O(h), so the fixed seeds below meet none.
    /// </summary>
    private const double Step = 1e-5, Tolerance = 1e-6;

    private static double[] Gaussian(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())).ToArray();
    }

    private static double Dot(double[] a, double[] b) => a.Zip(b, (x, y) => x * y).Sum();

    private static void AssertDerivatives(string what, NetworkGraph graph, double[] input)
    {
        var evaluator = new ReferenceEvaluator(graph);
        int output = graph.OutputValue;
        double[][] values = evaluator.Run(input);
        double[] u = Gaussian(values[output].Length, 1);
        double[]?[] weightGradients = evaluator.Backward(values, output, u, out double[]? inputGradient);

        double Along(double[]?[] weights, double[] x)
        {
            var all = new double[graph.Layers.Length + 1][];
            all[0] = x;
            evaluator.RunFrom(all, 0, weights);
            return Dot(u, all[output]);
        }

        // The tolerance is relative to the size of the directional derivative a random direction sees, ‖Jᵀu‖: a
        // wrong adjoint misses by about that much, a right one by the finite difference's 1e-10 of it.
        static double Norm(double[]? v) => v is null ? 0 : Math.Sqrt(v.Sum(x => x * x));

        // Every weight layer: a random direction in its weights.
        int[] weightLayers = evaluator.WeightLayerIndices;
        for (int k = 0; k < weightLayers.Length; k++)
        {
            float[] w = ((WeightLayer)graph.Layers[weightLayers[k]]).Weights;
            double rms = Math.Sqrt(w.Average(v => (double)v * v)) + 1e-12;
            double[] delta = Gaussian(w.Length, 100 + k);
            double h = Step * rms;
            var plus = new double[]?[weightLayers.Length];
            var minus = new double[]?[weightLayers.Length];
            plus[k] = w.Select((v, i) => v + h * delta[i]).ToArray();
            minus[k] = w.Select((v, i) => v - h * delta[i]).ToArray();
            double numeric = (Along(plus, input) - Along(minus, input)) / (2 * h);
            double analytic = weightGradients[k] is { } g ? Dot(g, delta) : 0;
            Assert.True(Math.Abs(numeric - analytic) <= Tolerance * (Norm(weightGradients[k]) + Math.Abs(numeric)) + 1e-12,
                $"{what}, weight layer {graph.Layers[weightLayers[k]].Name}: finite differences {numeric}, reverse mode {analytic}");
        }

        // The input.
        double[] direction = Gaussian(input.Length, 7);
        double inputScale = Math.Sqrt(input.Average(v => v * v)) + 1e-12, step = Step * inputScale;
        double alongInput = (Along(new double[]?[weightLayers.Length], input.Select((v, i) => v + step * direction[i]).ToArray())
            - Along(new double[]?[weightLayers.Length], input.Select((v, i) => v - step * direction[i]).ToArray())) / (2 * step);
        double reverse = inputGradient is null ? 0 : Dot(inputGradient, direction);
        Assert.True(Math.Abs(alongInput - reverse) <= Tolerance * (Norm(inputGradient) + Math.Abs(alongInput)) + 1e-12,
            $"{what}, input: finite differences {alongInput}, reverse mode {reverse}");
    }

    [Theory]
    [MemberData(nameof(Operators))]
    public void Reverse_mode_is_the_derivative_on_every_compared_operator(string op)
    {
        (byte[] model, _) = OperatorComparisonTests.Build(op);
        NetworkGraph graph = OnnxReader.Read("model.onnx", model);
        double[] input = TestModels.Input(4 * 36, 3).Select(v => 2.0 * v - 1).ToArray();
        AssertDerivatives(op, graph, input);
    }

    [Theory]
    [InlineData("digits-mlp.onnx")]
    [InlineData("digits-cnn.onnx")]
    [InlineData("digits-transformer.onnx")]
    [InlineData("digits-separable.onnx")]
    [InlineData("digits-resnet.onnx")]
    [InlineData("digits-vgg.onnx")]
    public void Reverse_mode_is_the_derivative_on_the_sample_networks(string file)
    {
        NetworkGraph graph = OnnxReader.Read(file, File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", file)));
        double[] input = TestModels.Input(graph.InputLength, 5).Select(v => (double)v).ToArray();
        AssertDerivatives(file, graph, input);
    }
}
