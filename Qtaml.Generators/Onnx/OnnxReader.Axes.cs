using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>Operators defined by axes: reductions, Squeeze and Unsqueeze, global pooling.</summary>
internal static partial class OnnxReader
{
    /// <summary>The shape of a value with one element.</summary>
    private static readonly int[] Scalar = { 1 };

    private static readonly int[] NoPadding = { 0, 0, 0, 0 };

    /// <summary>
    /// ReduceMean, ReduceSum, ReduceMax or ReduceMin over any axes (attribute before <paramref name="axesInputFrom"/>,
    /// input from it): one axis at a time with the axis kept, which is exact for these four reductions, then a
    /// reshape that drops the reduced axes unless keepdims. No axes means every axis, unless noop_with_empty_axes.
    /// </summary>
    private static int ReadReduce(Reading r, NodeProto node, string name, NodeAttributes a, ReduceKind kind, int axesInputFrom)
    {
        NetworkBuilder network = r.Network;
        int value = r.Data(node, name);
        if (r.Opset < axesInputFrom && node.Input.Count > 1)
            throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "node '" + name + "' gives " + node.OpType + " its axes as an input, which ONNX allows from opset " + axesInputFrom + "; the file imports opset " + r.Opset);
        if (node.Input.Count > 1 && node.Input[1].Length > 0 && r.IsValue(node.Input[1]))
            throw network.Mismatch(name, node.OpType + "'s axes are computed at run time; Qtaml needs them as a constant");
        long[] axes = node.Input.Count > 1 && node.Input[1].Length > 0 ? r.Context.Longs(node.Input[1], name) : a.Ints("axes");
        if (axes.Length == 0 && a.Int("noop_with_empty_axes", 0) != 0) return value;   // ONNX: no axes and this flag is the identity
        int[] shape = network.Shape;
        int[] ours;
        if (axes.Length == 0) ours = Enumerable.Range(0, shape.Length).ToArray();
        else
        {
            ours = axes.Select(axis => r.Axis(value, axis, name, node.OpType)).ToArray();
            if (ours.Distinct().Count() != ours.Length) throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "node '" + name + "' names an axis of " + node.OpType + " twice");
        }
        bool keepDims = a.Int("keepdims", 1) != 0;
        if (ours.Length == 1) return network.Reduce(name, kind, ours[0], keepDims);
        int result = value;
        foreach (int axis in ours.OrderBy(x => x))
        {
            network.Current = result;
            result = network.Reduce(name + " (axis " + axis + ")", kind, axis, keepDims: true);
        }
        if (keepDims) return result;
        int[] kept = shape.Where((_, i) => Array.IndexOf(ours, i) < 0).ToArray();
        network.Reshape(name, kept.Length == 0 ? Scalar : kept);
        return network.Current;
    }

    /// <summary>
    /// Squeeze (drop unit axes: the listed ones, or all) and Unsqueeze (insert unit axes at the listed positions of
    /// the result). Axes are attributes before opset 13 and an input from 13. Either is a reshape.
    /// </summary>
    private static int ReadSqueeze(Reading r, NodeProto node, string name, NodeAttributes a, bool squeeze)
    {
        NetworkBuilder network = r.Network;
        int value = r.Data(node, name);
        if (r.Opset < 13 && node.Input.Count > 1)
            throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "node '" + name + "' gives " + node.OpType + " its axes as an input, which ONNX allows from opset 13; the file imports opset " + r.Opset);
        if (node.Input.Count > 1 && node.Input[1].Length > 0 && r.IsValue(node.Input[1]))
            throw network.Mismatch(name, node.OpType + "'s axes are computed at run time; Qtaml needs them as a constant");
        long[] axes = node.Input.Count > 1 && node.Input[1].Length > 0 ? r.Context.Longs(node.Input[1], name) : a.Ints("axes");
        var onnx = new List<int>(network.ShapeOf(value));
        int rank = squeeze ? onnx.Count : onnx.Count + axes.Length;
        var positions = new HashSet<int>();
        foreach (long axis in axes)
        {
            long positive = axis < 0 ? axis + rank : axis;
            if (positive < 0 || positive >= rank || !positions.Add((int)positive))
                throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "node '" + name + "' has " + node.OpType + " axes [" + string.Join(", ", axes) + "], which are not distinct axes of a rank-" + rank + " tensor");
        }
        if (!squeeze && axes.Length == 0) throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "Unsqueeze node '" + name + "' has no axes; ONNX requires them");
        List<int> result;
        if (squeeze)
        {
            if (positions.Any(p => onnx[p] != 1))
                throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "node '" + name + "' squeezes an axis that is not of size 1 in " + Shape.Format(onnx.ToArray()));
            result = onnx.Where((d, i) => positions.Count == 0 ? d != 1 : !positions.Contains(i)).ToList();
        }
        else
        {
            result = new List<int>();
            int next = 0;
            for (int i = 0; i < rank; i++) result.Add(positions.Contains(i) ? 1 : onnx[next++]);
        }
        // A scalar result is held as [1].
        network.Reshape(name, result.Count == 0 ? Scalar : result.ToArray());
        return network.Current;
    }

    /// <summary>GlobalAveragePool or GlobalMaxPool: one window over each channel's whole 1-D, 2-D or 3-D extent.</summary>
    private static int ReadGlobalPool(Reading r, NodeProto node, string name, PoolKind kind)
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
