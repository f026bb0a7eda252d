using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>The small seeded ONNX models the generator tests compile.</summary>
internal static class TestModels
{
    /// <summary>An MLP: Gemm (transB) → ReLU → MatMul + Add → Softmax, 20 → 16 → 10.</summary>
    public static OnnxModelBuilder Mlp(int seed = 1) =>
        new OnnxModelBuilder(new long[] { 1, 20 }, seed).Gemm(20, 16).Relu().MatMulAdd(16, 10).Softmax();

    /// <summary>An MLP wide enough for the vectorized dense kernel (32 codes per step) and its scalar tail: 70 → 40 → 10.</summary>
    public static OnnxModelBuilder WideMlp(int seed = 5) =>
        new OnnxModelBuilder(new long[] { 1, 70 }, seed).Gemm(70, 40, 0.3).Relu().Gemm(40, 10).Softmax();

    /// <summary>
    /// Five dense layers, four of the same shape (two with a fused ReLU, two without): equal layers share one
    /// kernel method and each passes its own codes, scales and biases. 16 → 16 → 16 → 16 → 16 → 10.
    /// </summary>
    public static OnnxModelBuilder DeepMlp(int seed = 7) =>
        new OnnxModelBuilder(new long[] { 1, 16 }, seed).Gemm(16, 16).Relu().Gemm(16, 16).Relu().Gemm(16, 16).Gemm(16, 16).Gemm(16, 10).Softmax();

    /// <summary>
    /// A small CNN on 1×12×12: Conv (pad 1) → ReLU → MaxPool 2 → Conv (10 channels: two vectors of output
    /// channels, one padded) → ReLU → AveragePool 2 → Flatten → Gemm (40 inputs: the vector dense kernel and its tail) → Softmax.
    /// </summary>
    public static OnnxModelBuilder Cnn(int seed = 2) =>
        new OnnxModelBuilder(new long[] { 1, 1, 12, 12 }, seed)
            .Conv(1, 4, 3, pad: 1).Relu().MaxPool(2, 2)
            .Conv(4, 10, 3).Relu().AveragePool(2, 2)
            .Flatten().Gemm(10 * 2 * 2, 10).Softmax();

    /// <summary>The CNN with a batch normalization folded into its first convolution, and a Reshape in place of Flatten.</summary>
    public static OnnxModelBuilder CnnWithBatchNorm(int seed = 3) =>
        new OnnxModelBuilder(new long[] { 1, 1, 12, 12 }, seed)
            .Conv(1, 4, 3, pad: 1).BatchNormalization(4).Relu().MaxPool(2, 2)
            .Conv(4, 6, 3, stride: 1).Relu().AveragePool(2, 2)
            .Reshape(1, -1).Gemm(24, 10).Softmax();

    /// <summary>
    /// A CNN on 3×9×9, for the channels-last paths: a channel-major input of three channels (transposed as it is
    /// staged), a strided padded Conv of 9 channels with no ReLU after it, a padded MaxPool, a ReLU that is not
    /// fused, a padded AveragePool (count_include_pad = 0), a Conv reading channels-last without a border, then
    /// back to channel-major for Flatten → Gemm → Softmax.
    /// </summary>
    public static OnnxModelBuilder ChannelsLastCnn(int seed = 6) =>
        new OnnxModelBuilder(new long[] { 1, 3, 9, 9 }, seed)
            .Conv(3, 9, 3, stride: 2, pad: 1).MaxPool(2, 1, pad: 1).Relu()
            .AveragePool(3, 3, pad: 1).Conv(9, 4, 2)
            .Flatten().Gemm(4, 10).Softmax();

    public static float[] Input(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)random.NextDouble()).ToArray();
    }

    /// <summary>A consumer class for a model, and a harness the test calls through reflection (spans cannot be passed that way).</summary>
    public static string Consumer(string path, string arguments = "") => $$"""
        namespace Models
        {
            [global::Qtaml.TunnelingCompensated("{{path}}"{{arguments}})]
            public static partial class Model { }

            public static class Harness
            {
                public static void Run(float[] input, float[] output) => Model.Run(input, output);
                public static void RunImage(global::Qtaml.Faults.WeightImage weights, float[] input, float[] output) => Model.Run(weights, input, output);
                public static global::Qtaml.Faults.WeightImage CreateWeightImage() => Model.CreateWeightImage();
                public static global::Qtaml.ModelInfo Info => Model.Info;
                public static int Predict(float[] input) => Model.Predict(input);
                public static int InputLength => Model.InputLength;
                public static int OutputLength => Model.OutputLength;
            }
        }
        """;
}
