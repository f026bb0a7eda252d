using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Planning;

namespace Qtaml.Generators.Emit;

/// <summary>
/// Channels-last activations for the convolutional part of a chain. A vectorized convolution holds a vector of
/// output channels per output position, so it stores them as they are, [row][column][channel slot] with the
/// channel count padded to whole vectors (the padding slots hold 0), instead of scattering every value to its
/// channel's plane. The ReLU and pooling layers after it keep that layout (pooling then takes the maximum of
/// whole channel vectors); any other layer gets the channel-major layout the ONNX graph describes, converted
/// once where the channels-last run ends.
/// </summary>
internal static partial class ModelEmitter
{
    /// <summary>Whether a convolution gets the vectorized kernel (and so writes channels-last in a chain).</summary>
    private static bool IsVectorConv(ModelPlan plan, ConvLayer c) => plan.IsQuantized && c.StoresTapMajor;

    private static int ChannelVectors(ConvLayer c) => (c.OutChannels + 7) / 8;

    /// <summary>
    /// For each layer of a chain, the channel stride of its output as stored: the padded channel count when it is
    /// channels-last, 0 when it is channel-major (the ONNX layout).
    /// </summary>
    private static int[] ChannelStrides(ModelPlan plan)
    {
        Layer[] layers = plan.Graph.Layers;
        var strides = new int[layers.Length];
        int current = 0;
        for (int i = 0; i < layers.Length; i++)
        {
            current = layers[i] switch
            {
                ConvLayer c when IsVectorConv(plan, c) => ChannelVectors(c) * 8,
                ReluLayer or PoolLayer => current,
                _ => 0,
            };
            strides[i] = current;
        }
        return strides;
    }

    /// <summary>
    /// Whether a channels-last run ends before layer <paramref name="index"/> (or, at the number of layers, before
    /// the output): the layer before it wrote channels-last, and what comes next needs channel-major planes.
    /// </summary>
    private static bool EndsChannelsLastRun(int[] strides, int index) =>
        index > 0 && strides[index - 1] > 0 && (index == strides.Length || strides[index] == 0);

    /// <summary>The number of floats a layer's output takes as stored.</summary>
    private static int StoredLength(Layer layer, int stride) =>
        stride > 0 ? layer.OutputShape[1] * layer.OutputShape[2] * stride : layer.OutputLength;

    private static string PlanesMethodName(Layer layer, int stride) =>
        "ToPlanes_" + layer.OutputShape[0] + "x" + layer.OutputShape[1] + "x" + layer.OutputShape[2] + "_Slots" + stride;

    /// <summary>Copies a channels-last value with <paramref name="stride"/> channel slots into channel-major planes.</summary>
    private static void WriteToPlanes(SourceWriter w, Layer layer, int stride)
    {
        int channels = layer.OutputShape[0], h = layer.OutputShape[1], width = layer.OutputShape[2];
        w.Line("/// <summary>[" + h + "][" + width + "][" + stride + " slots] channels-last to [" + channels + "][" + h + "][" + width + "] channel-major (the padding slots are dropped).</summary>");
        using (w.Block("private static void " + PlanesMethodName(layer, stride) + "(global::System.ReadOnlySpan<float> x, global::System.Span<float> y)"))
        {
            w.Line("if (x.Length < " + (h * width * stride) + " || y.Length < " + (channels * h * width) + ") throw new global::System.ArgumentException(\"A layer buffer is too short.\");");
            w.Line("ref float source = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);");
            w.Line("ref float target = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(y);");
            using (w.Block("for (nuint c = 0; c < " + channels + "; c++)"))
                w.Line("for (nuint p = 0; p < " + (h * width) + "; p++) global::System.Runtime.CompilerServices.Unsafe.Add(ref target, c * " + (h * width) + " + p) = global::System.Runtime.CompilerServices.Unsafe.Add(ref source, p * " + stride + " + c);");
        }
        w.Line();
    }

    /// <summary>
    /// Pooling over channels-last input: each window position contributes whole vectors of channels, so one
    /// maximum (or sum) covers eight channels. Positions outside the input are skipped (max) or count as zeros
    /// only where the model says so (average with count_include_pad).
    /// </summary>
    private static void WriteChannelsLastPool(SourceWriter w, PoolLayer p, string method, int stride)
    {
        bool max = p.Kind == PoolKind.Max;
        Window k = p.Window;
        int inH = p.InputShape[1], inW = p.InputShape[2], outH = p.OutputShape[1], outW = p.OutputShape[2], vectors = stride / 8;
        bool inside = k.PadTop == 0 && k.PadLeft == 0 && (outH - 1) * k.StrideH + k.KernelH <= inH && (outW - 1) * k.StrideW + k.KernelW <= inW;
        const string Mm = "global::System.Runtime.InteropServices.MemoryMarshal";
        w.Line("/// <summary>" + Escape.XmlDoc(p.Name) + ": " + p.Operator + " " + Shape.Format(p.InputShape) + " -> " + Shape.Format(p.OutputShape) + ", window " + k.KernelH + "x" + k.KernelW + ", stride " + k.StrideH + "x" + k.StrideW
            + "; channels-last with " + stride + " channel slots, " + vectors + " vector(s) per position.</summary>");
        using (w.Block("private static void " + method + "(global::System.ReadOnlySpan<float> x, global::System.Span<float> y)"))
        {
            w.Line("if (x.Length < " + (inH * inW * stride) + " || y.Length < " + (outH * outW * stride) + ") throw new global::System.ArgumentException(\"A layer buffer is too short.\");");
            w.Line("ref float source = ref " + Mm + ".GetReference(x);");
            w.Line("ref float target = ref " + Mm + ".GetReference(y);");
            using (w.Block("for (int oy = 0; oy < " + outH + "; oy++)"))
            using (w.Block("for (int ox = 0; ox < " + outW + "; ox++)"))
            {
                string start = max ? V + ".Create(float.NegativeInfinity)" : V + "<float>.Zero";
                w.Line(string.Join(" ", Enumerable.Range(0, vectors).Select(g => V + "<float> r" + g + " = " + start + ";")));
                if (!max && !p.CountIncludePad && !inside) w.Line("int count = 0;");
                using (w.Block("for (int ky = 0; ky < " + k.KernelH + "; ky++)"))
                {
                    w.Line("int iy = oy * " + k.StrideH + (k.PadTop > 0 ? " - " + k.PadTop : "") + " + ky;");
                    if (!inside) w.Line("if ((uint)iy >= " + inH + "u) continue;");
                    using (w.Block("for (int kx = 0; kx < " + k.KernelW + "; kx++)"))
                    {
                        w.Line("int ix = ox * " + k.StrideW + (k.PadLeft > 0 ? " - " + k.PadLeft : "") + " + kx;");
                        if (!inside) w.Line("if ((uint)ix >= " + inW + "u) continue;");
                        w.Line("nuint at = (nuint)((iy * " + inW + " + ix) * " + stride + ");");
                        for (int g = 0; g < vectors; g++)
                        {
                            string load = V + ".LoadUnsafe(ref source, at + " + (8 * g) + ")";
                            w.Line("r" + g + " = " + (max ? V + ".Max(r" + g + ", " + load + ");" : "r" + g + " + " + load + ";"));
                        }
                        if (!max && !p.CountIncludePad && !inside) w.Line("count++;");
                    }
                }
                string divisor = max ? "" : p.CountIncludePad || inside ? " / " + Literals.Float(k.Size) : " / " + V + ".Create((float)global::System.Math.Max(count, 1))";
                for (int g = 0; g < vectors; g++)
                    w.Line(V + ".StoreUnsafe(r" + g + divisor + ", ref target, (nuint)((oy * " + outW + " + ox) * " + stride + " + " + (8 * g) + "));");
            }
        }
        w.Line();
    }
}
