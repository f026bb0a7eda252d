using System;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// ConvTranspose (1-D or 2-D) as what it equals. A layer whose windows tile its output (kernel = stride) is a 1x1
/// convolution and a depth-to-space shuffle (<see cref="ReadAsPointwiseAndShuffle"/>); any other is the input spread out with stride − 1 zeros between its values and
/// padded by dilation·(kernel − 1) − pad on each side (output_padding more at the end; a negative amount crops),
/// then an ordinary convolution of stride 1 with the kernel flipped and its input and output channels swapped.
/// The spreading is one index-table copy, and the convolution is quantized, protected and vectorized like any other.
/// </summary>
internal static partial class OnnxReader
{
    internal static int ReadConvTranspose(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        NetworkBuilder network = r.Network;
        int value = r.Data(node, name);
        int rank = network.Spatial(name, "ConvTranspose", most: 2);
        int[] shape = network.Shape;
        (int[] dims, float[] w) = r.Context.Tensor(node.Input[1], name);
        if (dims.Length != rank + 2) throw network.Mismatch(name, "the ConvTranspose weight has shape " + Shape.Format(dims) + " but the input " + Shape.Format(shape) + " is " + rank + "-D");
        long groups = a.Int("group", 1);
        if (groups < 1 || shape[1] % groups != 0 || dims[0] != shape[1])
            throw network.Mismatch(name, "the ConvTranspose weight " + Shape.Format(dims) + " does not fit " + shape[1] + " input channels in " + groups + " group(s)");
        int inC = shape[1], groupIn = inC / (int)groups, groupOut = dims[1], outC = groupOut * (int)groups;
        int[] kernel = dims.Skip(2).ToArray();
        long[] declared = a.Ints("kernel_shape");
        if (declared.Length > 0 && !declared.SequenceEqual(kernel.Select(k => (long)k)))
            throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "ConvTranspose node '" + name + "' has kernel_shape [" + string.Join(", ", declared) + "] but its weight is " + Shape.Format(dims));
        int[] strides = PerAxis(a, name, network, "strides", rank), dilations = PerAxis(a, name, network, "dilations", rank);
        long[] outputPadding = a.Ints("output_padding").Length == 0 ? new long[rank] : a.Ints("output_padding");
        if (outputPadding.Length != rank || outputPadding.Where((p, d) => p < 0 || p >= Math.Max(strides[d], dilations[d])).Any())
            throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "ConvTranspose node '" + name + "' has output_padding [" + string.Join(", ", outputPadding) + "]; each must be below its stride or dilation");
        long[] pads = Pads(r, a, name, shape, kernel, strides, dilations, outputPadding);
        float[]? bias = node.Input.Count > 2 && node.Input[2].Length > 0 ? r.Context.Vector(node.Input[2], name, outC) : null;
        if (TilesItsOutput(kernel, strides, dilations, pads, outputPadding))
            return ReadAsPointwiseAndShuffle(network, name, w, bias, inC, groupIn, groupOut, (int)groups, kernel);

        // The spread and padded input: along each spatial axis, position p reads input (p − begin) / stride where that is whole and inside.
        int[][] tables = new int[2 + rank][];
        tables[0] = AxisTables.Identity(shape[0]);
        tables[1] = AxisTables.Identity(inC);
        for (int d = 0; d < rank; d++)
        {
            long size = shape[2 + d], extent = (kernel[d] - 1L) * dilations[d];
            long begin = extent - pads[d], end = extent - pads[rank + d] + outputPadding[d];
            long length = (size - 1) * strides[d] + 1 + begin + end;
            if (length < extent + 1 || length > AxisTables.MaxAxisLength) throw network.Mismatch(name, "ConvTranspose makes an output of " + (length - extent) + " positions on axis " + (d + 2));
            tables[2 + d] = Enumerable.Range(0, (int)length).Select(p =>
            {
                long spread = p - begin;
                return spread >= 0 && spread % strides[d] == 0 && spread / strides[d] < size ? (int)(spread / strides[d]) : -1;
            }).ToArray();
        }
        network.AxisMap(name + " (input spread by the strides)", "ConvTranspose", tables);

        // Weight [in, out / groups, k...] to a convolution's [out, in / groups, k...], the kernel flipped.
        int taps = kernel.Aggregate(1, (p, k) => p * k);
        var weights = new float[(long)outC * groupIn * taps];
        for (int o = 0; o < outC; o++)
        {
            int g = o / groupOut, oWithin = o % groupOut;
            for (int i = 0; i < groupIn; i++)
                for (int t = 0; t < taps; t++)
                    weights[((long)o * groupIn + i) * taps + t] = w[((long)(g * groupIn + i) * groupOut + oWithin) * taps + (taps - 1 - t)];
        }
        var window = new Window(rank == 2 ? kernel[0] : 1, kernel[rank - 1], 1, 1, 0, 0, rank == 2 ? dilations[0] : 1, dilations[rank - 1]);
        network.Conv(name, weights, new[] { outC, groupIn }.Concat(kernel).ToArray(), bias, window, NoPadding, (int)groups);
        return network.Current;
    }

    /// <summary>
    /// Whether each input position's window of outputs is its own: the kernel as large as the stride on every axis,
    /// no dilation, padding or output padding (the 2x2, stride-2 upsampling of FPN and U-Net decoders). Spread out,
    /// such a layer would multiply zeros in all but one of every stride² taps.
    /// </summary>
    private static bool TilesItsOutput(int[] kernel, int[] strides, int[] dilations, long[] pads, long[] outputPadding) =>
        !kernel.Where((k, d) => k != strides[d] || dilations[d] != 1 || outputPadding[d] != 0).Any() && pads.All(p => p == 0);

    /// <summary>
    /// A ConvTranspose whose windows tile its output (<see cref="TilesItsOutput"/>) as what it then is: a 1x1
    /// convolution from the input channels to every (output channel, kernel tap), out[oc·taps + t] = Σ_i x[i]·W[i, oc, t]
    /// plus oc's bias (each output value gets exactly one tap), then each tap's plane moved to its place in the
    /// output, depth to space: [N, C·kh·kw, H, W] → [N, C, kh, kw, H, W] → [N, C, H, kh, W, kw] → [N, C, H·kh, W·kw]
    /// (1-D: [N, C·k, L] → [N, C, k, L] → [N, C, L, k] → [N, C, L·k]). The multiply-adds are the layer's own, a
    /// quarter of the spread form's for a 2x2 stride.
    /// </summary>
    private static readonly int[] TapsBesidePositions2D = { 0, 1, 4, 2, 5, 3 }, TapsBesidePositions1D = { 0, 1, 3, 2 };

    private static int ReadAsPointwiseAndShuffle(NetworkBuilder network, string name, float[] w, float[]? bias, int inC, int groupIn, int groupOut, int groups, int[] kernel)
    {
        int outC = groupOut * groups, taps = kernel.Aggregate(1, (p, k) => p * k);
        int[] shape = network.Shape;
        // Weight [in, out / groups, taps] to a 1x1 convolution's [out · taps, in / groups]: no flip, each tap its own output.
        var weights = new float[(long)outC * taps * groupIn];
        var biases = new float[(long)outC * taps];
        for (int o = 0; o < outC; o++)
        {
            int g = o / groupOut, oWithin = o % groupOut;
            for (int t = 0; t < taps; t++)
            {
                biases[o * taps + t] = bias?[o] ?? 0;
                for (int i = 0; i < groupIn; i++)
                    weights[((long)o * taps + t) * groupIn + i] = w[((long)(g * groupIn + i) * groupOut + oWithin) * taps + t];
            }
        }
        int[] ones = kernel.Select(_ => 1).ToArray();
        network.Conv(name + " (each tap a channel)", weights, new[] { outC * taps, groupIn }.Concat(ones).ToArray(), biases, new Window(1, 1, 1, 1, 0, 0), NoPadding, groups);
        int batch = shape[0];
        if (kernel.Length == 2)
        {
            int h = shape[2], wd = shape[3];
            network.Reshape(name + " (taps as axes)", new[] { batch, outC, kernel[0], kernel[1], h, wd });
            network.Transpose(name + " (taps beside their positions)", TapsBesidePositions2D);
            network.Reshape(name, new[] { batch, outC, h * kernel[0], wd * kernel[1] });
        }
        else
        {
            int length = shape[2];
            network.Reshape(name + " (taps as an axis)", new[] { batch, outC, kernel[0], length });
            network.Transpose(name + " (taps beside their positions)", TapsBesidePositions1D);
            network.Reshape(name, new[] { batch, outC, length * kernel[0] });
        }
        return network.Current;
    }

    /// <summary>
    /// The pads (begin per axis, then end): explicit, none for VALID, or from output_shape or SAME_UPPER / SAME_LOWER
    /// as ONNX defines them, the total padding split with the odd one at the end for SAME_UPPER and at the start otherwise.
    /// </summary>
    private static long[] Pads(Reading r, NodeAttributes a, string name, int[] shape, int[] kernel, int[] strides, int[] dilations, long[] outputPadding)
    {
        int rank = kernel.Length;
        string autoPad = a.String("auto_pad", "NOTSET");
        long[] explicitPads = a.Ints("pads"), outputShape = a.Ints("output_shape");
        if (outputShape.Length == rank + 2) outputShape = outputShape.Skip(2).ToArray();
        if (explicitPads.Length > 0 && (explicitPads.Length != 2 * rank || explicitPads.Any(p => p < 0 || p > 1 << 16)))
            throw r.Network.Mismatch(name, "pads must be " + 2 * rank + " values between 0 and 65536");
        if (outputShape.Length == 0 && autoPad is "NOTSET" or "VALID")
            return explicitPads.Length > 0 && autoPad == "NOTSET" ? explicitPads : new long[2 * rank];
        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
            throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "node '" + name + "' has auto_pad = '" + autoPad + "'; ONNX defines NOTSET, VALID, SAME_UPPER and SAME_LOWER");
        if (outputShape.Length != 0 && outputShape.Length != rank) throw r.Network.Mismatch(name, "output_shape must give the " + rank + " spatial sizes");
        var pads = new long[2 * rank];
        for (int d = 0; d < rank; d++)
        {
            long size = shape[2 + d];
            long target = outputShape.Length > 0 ? outputShape[d] : size * strides[d];
            long total = strides[d] * (size - 1) + outputPadding[d] + (kernel[d] - 1L) * dilations[d] + 1 - target;
            if (total < 0 || total > 1 << 17) throw r.Network.Mismatch(name, "output_shape " + target + " on axis " + (d + 2) + " does not fit the ConvTranspose");
            bool upper = autoPad == "SAME_UPPER";
            (pads[d], pads[rank + d]) = upper ? (total / 2, total - total / 2) : (total - total / 2, total / 2);
        }
        return pads;
    }
}
