using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>Windows over positions: Conv, MaxPool and AveragePool (1-D to 3-D) and the global pools.</summary>
internal static partial class OnnxReader
{
    internal static int ReadConv(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        Context context = r.Context;
        NetworkBuilder network = r.Network;
        r.Data(node, name);
        int rank = network.Spatial(name, "Conv");
        (int[] dims, float[] w) = context.Tensor(node.Input[1], name);
        if (dims.Length != rank + 2) throw network.Mismatch(name, "the Conv weight has shape " + Shape.Format(dims) + " but the input " + Shape.Format(network.Shape) + " is " + rank + "-D");
        int[] kernel = dims.Skip(2).ToArray();
        long[] declared = a.Ints("kernel_shape");
        if (declared.Length > 0 && !declared.SequenceEqual(kernel.Select(k => (long)k)))
            throw new ModelReadException(Diagnostics.MalformedFile, context.Path, "Conv node '" + name + "' has kernel_shape [" + string.Join(", ", declared) + "] but its weight is " + Shape.Format(dims));
        long groups = a.Int("group", 1);
        if (groups < 1 || groups > network.Shape[1]) throw network.Mismatch(name, "group = " + groups + " must be between 1 and the " + network.Shape[1] + " input channels");
        (Window window, int[] pads) = ReadWindow(context, a, name, network, kernel, dilated: true);
        float[]? bias = node.Input.Count > 2 && node.Input[2].Length > 0 ? context.Tensor(node.Input[2], name).Values : null;
        network.Conv(name, w, dims, bias, window, pads, (int)groups);
        return network.Current;
    }

    internal static int ReadPool(Reading r, NodeProto node, string name, NodeAttributes a, PoolKind kind)
    {
        Context context = r.Context;
        NetworkBuilder network = r.Network;
        r.Data(node, name);
        int rank = network.Spatial(name, node.OpType);
        bool ceil = a.Int("ceil_mode", 0) != 0;
        // A partial last window's padding beyond the end pads: ONNX Runtime leaves it out of an average that counts pads.
        if (ceil && kind == PoolKind.Average && a.Int("count_include_pad", 0) != 0)
            throw network.Mismatch(name, "AveragePool with ceil_mode = 1 and count_include_pad = 1 is not supported");
        long[] kernel = a.Ints("kernel_shape");
        if (kernel.Length != rank || kernel.Any(k => k < 1 || k > 1 << 16)) throw network.Mismatch(name, node.OpType + " needs a positive kernel_shape of " + rank + " value(s) for its " + rank + "-D input");
        (Window window, int[] pads) = ReadWindow(context, a, name, network, kernel.Select(k => (int)k).ToArray(), dilated: true);
        network.Pool(name, kind, window, pads, a.Int("count_include_pad", 0) != 0, ceil);
        return network.Current;
    }

    /// <summary>
    /// The window of a 1-D, 2-D or 3-D Conv or pool over the current value (height 1 for 1-D, depth 1 below 3-D),
    /// and its padding (top, left, bottom, right, then front, back for 3-D): explicit pads with auto_pad NOTSET;
    /// none with VALID; with SAME_UPPER / SAME_LOWER, what keeps ceil(input / stride) outputs, the odd pixel at the
    /// end (UPPER) or the start (LOWER). auto_pad together with nonzero pads is not a valid file.
    /// </summary>
    private static (Window Window, int[] Pads) ReadWindow(Context context, NodeAttributes a, string name, NetworkBuilder network, int[] kernel, bool dilated)
    {
        int rank = kernel.Length;
        int[] strides = PerAxis(a, name, network, "strides", rank);
        int[] dilations = dilated ? PerAxis(a, name, network, "dilations", rank) : Enumerable.Repeat(1, rank).ToArray();
        string autoPad = a.String("auto_pad", "NOTSET");
        long[] pads = a.Ints("pads");
        if (autoPad != "NOTSET" && pads.Any(p => p != 0))
            throw new ModelReadException(Diagnostics.MalformedFile, context.Path, "node '" + name + "' sets both auto_pad = " + autoPad + " and pads; ONNX allows one or the other");
        var begin = new int[rank];
        var end = new int[rank];
        switch (autoPad)
        {
            case "NOTSET":
                if (pads.Length == 0) break;
                if (pads.Length != 2 * rank || pads.Any(p => p < 0 || p > 1 << 16)) throw network.Mismatch(name, "pads must be " + (2 * rank) + " values between 0 and 65536");
                for (int d = 0; d < rank; d++) (begin[d], end[d]) = ((int)pads[d], (int)pads[rank + d]);
                break;
            case "VALID":
                break;
            case "SAME_UPPER":
            case "SAME_LOWER":
                for (int d = 0; d < rank; d++)
                    (begin[d], end[d]) = Same(network.Shape[2 + d], (kernel[d] - 1L) * dilations[d] + 1, strides[d], autoPad == "SAME_UPPER");
                break;
            default:
                throw new ModelReadException(Diagnostics.MalformedFile, context.Path, "node '" + name + "' has auto_pad = '" + autoPad + "'; ONNX defines NOTSET, VALID, SAME_UPPER and SAME_LOWER");
        }
        // The axes from the last: width, height (1 for 1-D), depth (1 below 3-D).
        int Axis(int[] values, int fromLast, int fill) => fromLast < rank ? values[rank - 1 - fromLast] : fill;
        var window = new Window(Axis(kernel, 1, 1), Axis(kernel, 0, 1), Axis(strides, 1, 1), Axis(strides, 0, 1), Axis(begin, 1, 0), Axis(begin, 0, 0), Axis(dilations, 1, 1), Axis(dilations, 0, 1),
            Axis(kernel, 2, 1), Axis(strides, 2, 1), Axis(begin, 2, 0), Axis(dilations, 2, 1));
        int[] planar = { Axis(begin, 1, 0), Axis(begin, 0, 0), Axis(end, 1, 0), Axis(end, 0, 0) };
        return (window, rank == 3 ? planar.Concat(new[] { begin[0], end[0] }).ToArray() : planar);
    }

    /// <summary>SAME padding of one axis: the total that gives ceil(size / stride) outputs, split with the odd one at the end (upper) or start.</summary>
    private static (int Begin, int End) Same(int size, long kernel, int stride, bool upper)
    {
        long outputs = (size + (long)stride - 1) / stride;
        long total = Math.Max(0, (outputs - 1) * stride + kernel - size);
        int small = (int)(total / 2), large = (int)(total - total / 2);
        return upper ? (small, large) : (large, small);
    }

    /// <summary>A per-axis attribute (strides, dilations): one positive value per spatial axis, 1 where it is absent.</summary>
    private static int[] PerAxis(NodeAttributes a, string name, NetworkBuilder network, string attribute, int rank)
    {
        long[] values = a.Ints(attribute);
        if (values.Length == 0) return Enumerable.Repeat(1, rank).ToArray();
        if (values.Length != rank || values.Any(v => v < 1 || v > 1 << 16)) throw network.Mismatch(name, attribute + " must hold " + rank + " positive value(s) up to 65536");
        return values.Select(v => (int)v).ToArray();
    }

    /// <summary>GlobalAveragePool or GlobalMaxPool: one window over each channel's whole 1-D, 2-D or 3-D extent.</summary>
    internal static int ReadGlobalPool(Reading r, NodeProto node, string name, PoolKind kind)
    {
        NetworkBuilder network = r.Network;
        r.Data(node, name);
        network.Spatial(name, node.OpType);
        int[] shape = network.Shape;
        int depth = SpatialAxes.Depth(shape), height = SpatialAxes.Height(shape), width = shape[shape.Length - 1];
        network.Pool(name, kind, new Window(height, width, 1, 1, 0, 0, KernelD: depth), shape.Length == 5 ? new int[6] : NoPadding, countIncludePad: false);
        return network.Current;
    }
}
