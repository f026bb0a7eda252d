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
    /// <param name="operatingPoint">Which of those it is, for the header and Info.</param>
    /// <param name="windowEnd">The flips at the end of the retention window (for a static build, <paramref name="flips"/>).</param>
    /// <remarks>Sensitivities are the data-free estimate; a calibrated build plans through a <see cref="PlanDesigner"/> made with measured ones.</remarks>
    public static ModelPlan Plan(NetworkGraph graph, KernelProgram program, string nodeLabel, FlipProbabilities flips, int bits, double budget, Allocator allocator = Allocator.Tac, double inputMeanSquare = 1,
        CompensationPoint operatingPoint = CompensationPoint.Static, FlipProbabilities? windowEnd = null, CodeEncoding? encoding = null)
    {
        WeightLayer[] weightLayers = graph.Layers.OfType<WeightLayer>().ToArray();
        // An unquantized build only reports G: the estimate from the weights alone, which costs no evaluation.
        bool measured = false;
        double[] sensitivity = bits == 0 ? AnalyticSensitivity.Estimate(graph, inputMeanSquare) : Sensitivity.Estimate(graph, inputMeanSquare, out measured);
        if (bits == 0) return Unquantized(graph, nodeLabel, flips, weightLayers, sensitivity);
        ModelPlan plan = Plan(graph, program, new PlanDesigner(weightLayers, sensitivity, bits, flips, encoding, readAfterRefresh: operatingPoint.HasWindow()), nodeLabel, budget, allocator, inputMeanSquare, operatingPoint, windowEnd);
        plan.SensitivitiesFromWeightsOnly = !measured;
        return plan;
    }

    /// <summary>Plans with a designer made beforehand (the same one a <see cref="BudgetForecast"/> searched with).</summary>
    public static ModelPlan Plan(NetworkGraph graph, KernelProgram program, PlanDesigner designer, string nodeLabel, double budget, Allocator allocator, double inputMeanSquare,
        CompensationPoint operatingPoint, FlipProbabilities? windowEnd, BudgetForecast? forecast = null)
    {
        int bits = designer.Bits;
        FlipProbabilities flips = designer.Flips;
        WeightLayer[] weightLayers = designer.Layers;
        PlanDesign design = designer.Design(allocator, budget);
        CodeEncoding chosen = design.Encoding;
        ProtectionPlan protection = design.Protection;
        SaturationReport saturation = design.Problem.Saturation();

        var quantized = new QuantizedLayer[weightLayers.Length];
        var freshShift = new double[weightLayers.Length];
        for (int l = 0; l < weightLayers.Length; l++)
        {
            int m = protection.ProtectedPlanes[l];
            CorrectedLayer corrected = designer.Corrected(chosen, l, m);
            freshShift[l] = MeanCorrection.FreshShiftSquared(corrected, designer.IntendedCodes[l]);
            quantized[l] = new QuantizedLayer(weightLayers[l], designer.IntendedCodes[l], corrected.ToArray(), designer.ChannelScales[l], designer.LayerScales[l], (float)corrected.ScaleFactor, (float)corrected.CodeOffset, m, designer.Sensitivity[l], corrected.WorstCaseResidual);
        }

        // Do no harm: read just after a refresh, the network is within plain quantization's error of the plain codes
        // (the coherent error of every layer's correction, summed in amplitude). The correction is built to hold it;
        // a plan that does not is refused rather than shipped.
        if (!double.IsPositiveInfinity(designer.FreshShiftBound))
        {
            (double coherent, double plain) = MeanCorrection.FreshError(designer.Sensitivity, designer.WeightCounts, designer.LayerScales, freshShift);
            if (!(coherent <= plain * (1 + 1e-9)))
                throw new InvalidOperationException($"The plan's mean correction would move the network's output by {coherent:G3} read just after a refresh, more than plain quantization's {plain:G3}.");
        }

        Dictionary<int, Kernel> kernels = program.KernelsByLayer();
        Kernel[] weightKernels = graph.Layers.Select((layer, i) => (layer, i)).Where(p => p.layer is WeightLayer)
            .Select(p => kernels.TryGetValue(p.i, out Kernel kernel) ? kernel : Kernel.Default).ToArray();
        (byte[] image, int[] offsets) = LayOut(quantized.Select(q => q.StoredCodes).ToArray(), weightLayers, bits, weightKernels, chosen);
        (byte[] intended, _) = LayOut(quantized.Select(q => q.IntendedCodes).ToArray(), weightLayers, bits, weightKernels, chosen);
        return new ModelPlan(graph, nodeLabel, flips, bits, budget, quantized, protection, saturation, image, offsets, inputMeanSquare, operatingPoint, windowEnd ?? flips, chosen, forecast)
        {
            IntendedImage = intended,
            LayoutId = LayoutIdentity.Of(weightLayers, weightKernels, bits, chosen),
        };
    }

    private static ModelPlan Unquantized(NetworkGraph graph, string nodeLabel, FlipProbabilities flips, WeightLayer[] layers, double[] sensitivity)
    {
        var quantized = layers.Select((layer, l) => new QuantizedLayer(layer, Array.Empty<int>(), Array.Empty<int>(), Array.Empty<float>(), 1, 1, 0, 0, sensitivity[l], 0)).ToArray();
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
    private static (byte[] Image, int[] Offsets) LayOut(int[][] layerCodes, WeightLayer[] layers, int bits, Kernel[] kernels, CodeEncoding encoding)
    {
        int bytesPerCode = bits <= 8 ? 1 : 2;
        var offsets = new int[layers.Length];
        long total = 0;
        for (int l = 0; l < layers.Length; l++)
        {
            offsets[l] = (int)total;
            total += ((long)layerCodes[l].Length * bytesPerCode + Alignment - 1) / Alignment * Alignment;
        }
        var image = new byte[total];
        for (int l = 0; l < layers.Length; l++)
        {
            int[] codes = layerCodes[l];
            WeightLayer layer = layers[l];
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
