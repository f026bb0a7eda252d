using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Lowering;
using Qtaml.Generators.Network;
using Qtaml.Moments;
using Qtaml.Physics;
using Qtaml.Tac;

namespace Qtaml.Generators.Planning;

/// <summary>
/// Plans a network for a node: quantizes each weight layer symmetrically per output channel, profiles it,
/// lets TAC choose the protected bit-planes within the budget, applies mean correction and lays out the
/// weight image. Pure: no I/O, no Roslyn.
/// </summary>
internal static class ModelPlanner
{
    /// <summary>Weight images are laid out as Qtaml.Faults.WeightImage does: every layer on a 32-byte boundary.</summary>
    public const int Alignment = 32;

    /// <param name="flips">The operating point the codes are compensated for (a window average, a window's end, or a static probability).</param>
    /// <param name="operatingPoint">Which of those it is, for the header and Info: "window average", "end of window" or "static".</param>
    /// <param name="windowEnd">The flips at the end of the retention window (for a static build, <paramref name="flips"/>).</param>
    public static ModelPlan Plan(NetworkGraph graph, KernelProgram program, string nodeLabel, FlipProbabilities flips, int bits, double budget, Allocator allocator = Allocator.Tac, double inputMeanSquare = 1,
        string operatingPoint = "static", FlipProbabilities? windowEnd = null, CodeEncoding? encoding = null)
    {
        WeightLayer[] weightLayers = graph.Layers.OfType<WeightLayer>().ToArray();
        double[] sensitivity = Sensitivity.Estimate(graph, inputMeanSquare);
        if (bits == 0) return Unquantized(graph, nodeLabel, flips, weightLayers, sensitivity);

        int maxCode = StoredCode.MaxCode(bits);
        var intended = new int[weightLayers.Length][];
        var scales = new float[weightLayers.Length][];
        var rms = new double[weightLayers.Length];
        for (int l = 0; l < weightLayers.Length; l++)
        {
            (intended[l], scales[l]) = Quantize(weightLayers[l], maxCode);
            // The layer scale s_l of D(m): the root mean square of its channel scales, so n_l·s_l² = Σ_c n_c·s_c².
            rms[l] = Math.Max(Math.Sqrt(scales[l].Average(s => (double)s * s)), 1e-30);
        }

        // The plan in an encoding: each layer's profile of flip variance per plane, and the allocator's choice.
        (ProtectionProblem Problem, ProtectionPlan Protection) Design(CodeEncoding e)
        {
            var profiles = weightLayers.Select((layer, l) => LayerProfile.FromCodes(layer.Name, intended[l], rms[l], sensitivity[l], bits, flips, e)).ToArray();
            var problem = new ProtectionProblem(bits, profiles);
            return (problem, problem.Allocate(allocator, budget));
        }
        // The encoding: the one asked for, else the one whose plan predicts less distortion (two's complement on a
        // tie, such as a build with no flips). Sign-magnitude's correction searches every code: picked automatically up to 8 bits, on request up to 10.
        (ProtectionProblem problem, ProtectionPlan protection) = Design(CodeEncoding.TwosComplement);
        CodeEncoding chosen = CodeEncoding.TwosComplement;
        if (encoding == CodeEncoding.SignMagnitude || (encoding is null && bits <= 8 && flips.P10 + flips.P01 > 0))
        {
            var signMagnitude = Design(CodeEncoding.SignMagnitude);
            if (encoding == CodeEncoding.SignMagnitude || signMagnitude.Protection.PredictedDistortion < protection.PredictedDistortion * (1 - 1e-9))
                (problem, protection, chosen) = (signMagnitude.Problem, signMagnitude.Protection, CodeEncoding.SignMagnitude);
        }
        SaturationReport saturation = problem.Saturation();

        var quantized = new QuantizedLayer[weightLayers.Length];
        for (int l = 0; l < weightLayers.Length; l++)
        {
            int m = protection.ProtectedPlanes[l];
            CorrectedLayer corrected = MeanCorrection.Apply(intended[l], bits, m, flips, chosen);
            float[] channelScales = scales[l].Select(s => (float)(s * corrected.ScaleFactor)).ToArray();
            quantized[l] = new QuantizedLayer(weightLayers[l], corrected.ToArray(), channelScales, (float)corrected.CodeOffset, m, sensitivity[l], corrected.WorstCaseResidual);
        }

        Dictionary<int, Kernel> kernels = program.KernelsByLayer();
        Kernel[] weightKernels = graph.Layers.Select((layer, i) => (layer, i)).Where(p => p.layer is WeightLayer)
            .Select(p => kernels.TryGetValue(p.i, out Kernel kernel) ? kernel : Kernel.Default).ToArray();
        (byte[] image, int[] offsets) = LayOut(quantized, bits, weightKernels, chosen);
        return new ModelPlan(graph, nodeLabel, flips, bits, budget, quantized, protection, saturation, image, offsets, inputMeanSquare, operatingPoint, windowEnd ?? flips, chosen);
    }

    private static ModelPlan Unquantized(NetworkGraph graph, string nodeLabel, FlipProbabilities flips, WeightLayer[] layers, double[] sensitivity)
    {
        var quantized = layers.Select((layer, l) => new QuantizedLayer(layer, Array.Empty<int>(), Array.Empty<float>(), 0, 0, sensitivity[l], 0)).ToArray();
        return new ModelPlan(graph, nodeLabel, flips, 0, 0, quantized, null, null, Array.Empty<byte>(), new int[layers.Length]);
    }

    /// <summary>Symmetric per-channel quantization: s_c = max|w_c| / (2^{b−1} − 1), q = round(w/s_c).</summary>
    public static (int[] Codes, float[] Scales) Quantize(WeightLayer layer, int maxCode)
    {
        int per = layer.WeightsPerChannel;
        var codes = new int[layer.Weights.Length];
        var scales = new float[layer.Channels];
        for (int c = 0; c < layer.Channels; c++)
        {
            float max = 0;
            for (int i = 0; i < per; i++) max = Math.Max(max, Math.Abs(layer.Weights[c * per + i]));
            float scale = max > 0 ? max / maxCode : 1f;
            scales[c] = scale;
            for (int i = 0; i < per; i++)
            {
                int q = (int)Math.Round(layer.Weights[c * per + i] / scale, MidpointRounding.AwayFromZero);
                codes[c * per + i] = Math.Max(-maxCode, Math.Min(maxCode, q));
            }
        }
        return (codes, scales);
    }

    /// <summary>The stored patterns of every layer, each on a 32-byte boundary, in the order its kernel reads them (<see cref="WeightOrder"/>): b ≤ 8 in bytes, else little-endian 16-bit words.</summary>
    private static (byte[] Image, int[] Offsets) LayOut(QuantizedLayer[] layers, int bits, Kernel[] kernels, CodeEncoding encoding)
    {
        int bytesPerCode = bits <= 8 ? 1 : 2;
        var offsets = new int[layers.Length];
        long total = 0;
        for (int l = 0; l < layers.Length; l++)
        {
            offsets[l] = (int)total;
            total += ((long)layers[l].StoredCodes.Length * bytesPerCode + Alignment - 1) / Alignment * Alignment;
        }
        var image = new byte[total];
        for (int l = 0; l < layers.Length; l++)
        {
            int[] codes = layers[l].StoredCodes;
            WeightLayer layer = layers[l].Layer;
            Kernel kernel = kernels[l];
            for (int i = 0; i < codes.Length; i++)
            {
                int pattern = CodeEncodings.ToPattern(codes[i], bits, encoding);
                int at = WeightOrder.StoredPosition(kernel, layer, i);
                if (bytesPerCode == 1) image[offsets[l] + at] = (byte)pattern;
                else
                {
                    image[offsets[l] + 2 * at] = (byte)pattern;
                    image[offsets[l] + 2 * at + 1] = (byte)(pattern >> 8);
                }
            }
        }
        return (image, offsets);
    }

    /// <summary>The number of weights in a network.</summary>
    public static long WeightCount(NetworkGraph graph) => graph.Layers.OfType<WeightLayer>().Sum(l => (long)l.Weights.Length);
}
