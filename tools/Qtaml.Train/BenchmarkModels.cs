using Qtaml.Tools;

namespace Qtaml.Train;

/// <summary>
/// Three convolutional shapes the sample models do not have, for the benchmark matrix: a CNN with 96 channels in
/// three layers, a depthwise-separable (MobileNet-style) net and a residual CNN. The weights are seeded random
/// values (He-scaled, so activations keep their size through the layers): speed does not depend on what a network
/// has learned. Each reads a 28x28 digit, like the sample models, and gives 10 scores.
/// </summary>
internal static class BenchmarkModels
{
    public static IEnumerable<(string Name, byte[] Onnx)> All()
    {
        yield return ("wide-cnn", WideCnn());
        yield return ("separable-cnn", SeparableCnn());
        yield return ("residual-cnn", ResidualCnn());
    }

    private sealed class Builder
    {
        private readonly Random _random;
        private int _count;

        public Builder(string name, int seed)
        {
            _random = new Random(seed);
            Graph = new OnnxGraphWriter(name);
            Current = Graph.Input("input", new long?[] { 1, 1, 28, 28 });
        }

        public OnnxGraphWriter Graph { get; }
        public string Current { get; private set; }

        private float[] Random(int count, double scale) => Enumerable.Range(0, count).Select(_ => (float)((_random.NextDouble() * 2 - 1) * scale)).ToArray();

        public Builder Conv(int inC, int outC, int kernel, int stride = 1, int group = 1, bool relu = true)
        {
            int fanIn = inC / group * kernel * kernel, pad = kernel / 2;
            string id = "conv" + _count++;
            string w = Graph.Constant(id + "_w", new long[] { outC, inC / group, kernel, kernel }, Random(outC * fanIn, Math.Sqrt(6.0 / fanIn)));
            string b = Graph.Constant(id + "_b", new long[] { outC }, Random(outC, 0.05));
            Current = Graph.Node("Conv", new[] { Current, w, b }, OnnxProto.Ints("kernel_shape", kernel, kernel), OnnxProto.Ints("strides", stride, stride),
                OnnxProto.Ints("pads", pad, pad, pad, pad), OnnxProto.Int("group", group));
            if (relu) Relu();
            return this;
        }

        public Builder Relu()
        {
            Current = Graph.Node("Relu", new[] { Current });
            return this;
        }

        public Builder Pool(string op, int kernel)
        {
            Current = Graph.Node(op, new[] { Current }, OnnxProto.Ints("kernel_shape", kernel, kernel), OnnxProto.Ints("strides", kernel, kernel));
            return this;
        }

        public Builder Add(string other)
        {
            Current = Graph.Node("Add", new[] { Current, other });
            return this;
        }

        public byte[] Head(int inputs)
        {
            string flat = Graph.Node("Flatten", new[] { Current }, OnnxProto.Int("axis", 1));
            string w = Graph.Constant("head_w", new long[] { 10, inputs }, Random(10 * inputs, Math.Sqrt(6.0 / inputs)));
            string b = Graph.Constant("head_b", new long[] { 10 }, Random(10, 0.05));
            string logits = Graph.Node("Gemm", new[] { flat, w, b }, OnnxProto.Int("transB", 1));
            return Graph.Build(logits, new long?[] { 1, 10 }, "qtaml-benchmarks", 13);
        }
    }

    /// <summary>32, 96, 96 and 96 channels of 3x3 convolutions: 26 M multiply-accumulates.</summary>
    private static byte[] WideCnn() => new Builder("wide-cnn", 21)
        .Conv(1, 32, 3).Pool("MaxPool", 2)
        .Conv(32, 96, 3).Conv(96, 96, 3).Pool("MaxPool", 2)
        .Conv(96, 96, 3)
        .Head(96 * 7 * 7);

    /// <summary>A stem, then three depthwise 3x3 + pointwise 1x1 pairs up to 128 channels, average-pooled: 1.4 M multiply-accumulates.</summary>
    private static byte[] SeparableCnn() => new Builder("separable-cnn", 22)
        .Conv(1, 16, 3, stride: 2)
        .Conv(16, 16, 3, group: 16).Conv(16, 32, 1)
        .Conv(32, 32, 3, stride: 2, group: 32).Conv(32, 64, 1)
        .Conv(64, 64, 3, group: 64).Conv(64, 128, 1)
        .Pool("AveragePool", 7)
        .Head(128);

    /// <summary>A stem and two residual blocks of two 3x3 convolutions at 32 channels: 8.3 M multiply-accumulates.</summary>
    private static byte[] ResidualCnn()
    {
        var b = new Builder("residual-cnn", 23).Conv(1, 32, 3).Pool("MaxPool", 2);
        for (int block = 0; block < 2; block++)
        {
            string skip = b.Current;
            b.Conv(32, 32, 3).Conv(32, 32, 3, relu: false).Add(skip).Relu();
        }
        return b.Pool("MaxPool", 2).Head(32 * 7 * 7);
    }
}
