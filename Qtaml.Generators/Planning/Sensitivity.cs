using System;
using System.Linq;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Planning;

/// <summary>
/// G_l, the data-free sensitivity of the network's output to a unit error in one weight of layer l
/// (DESIGN 3.5.2). A weight error e in layer l changes each output it feeds by e·x, where x is that layer's
/// input; it feeds <see cref="WeightLayer.Reuse"/> outputs (every position of a convolution). The change then
/// travels to the network's output through the later layers: a unit change at one input of a layer with
/// weights W reaches its outputs with squared gain ‖W‖_F²/fan-in on average, ReLU passes about half, and a
/// k-element pooling window passes a given input about 1/k of the time. So
/// <code>
///   G_l = E[x_l²] · reuse_l · Π_{later layers} gain
/// </code>
/// with E[x_l²] carried forward from a unit-mean-square input by the same gains. Every G_l scales with the
/// input's mean square alike, so the plan does not depend on it; calibration data would sharpen E[x_l²].
/// </summary>
internal static class Sensitivity
{
    public static double[] Estimate(NetworkGraph graph)
    {
        Layer[] layers = graph.Layers;
        // meanSquareIn[i]: E[x²] at the input of layer i, from a unit-mean-square network input.
        var meanSquareIn = new double[layers.Length + 1];
        meanSquareIn[0] = 1;
        for (int i = 0; i < layers.Length; i++) meanSquareIn[i + 1] = meanSquareIn[i] * ForwardGain(layers[i]);

        // downstream[i]: squared gain from the output of layer i to the network's output.
        var downstream = new double[layers.Length + 1];
        downstream[layers.Length] = 1;
        for (int i = layers.Length - 1; i >= 0; i--) downstream[i] = downstream[i + 1] * (i + 1 < layers.Length ? BackwardGain(layers[i + 1]) : 1);

        return layers.Select((layer, i) => layer is WeightLayer weights
                ? Math.Max(meanSquareIn[i], 1e-30) * weights.Reuse * downstream[i]
                : double.NaN)
            .Where((g, i) => layers[i] is WeightLayer)
            .ToArray();
    }

    private static double FrobeniusSquared(WeightLayer layer) => layer.Weights.Sum(w => (double)w * w);

    /// <summary>How E[x²] changes through a layer, for independent zero-mean inputs.</summary>
    private static double ForwardGain(Layer layer) => layer switch
    {
        WeightLayer w => FrobeniusSquared(w) / w.Channels,   // each output sums its row: Σ w² E[x²]
        ReluLayer => 0.5,
        _ => 1,
    };

    /// <summary>The mean squared gain from one input of a layer to all its outputs.</summary>
    private static double BackwardGain(Layer layer) => layer switch
    {
        DenseLayer d => FrobeniusSquared(d) / d.Inputs,
        ConvLayer c => FrobeniusSquared(c) / c.InChannels / (c.Window.StrideH * c.Window.StrideW),
        ReluLayer => 0.5,
        PoolLayer p => 1.0 / p.Window.Size,
        _ => 1,
    };
}
