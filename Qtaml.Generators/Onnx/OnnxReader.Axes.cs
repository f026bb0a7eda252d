using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>Reductions over any constant axes.</summary>
internal static partial class OnnxReader
{
    /// <summary>
    /// ReduceMean, ReduceSum, ReduceMax or ReduceMin over any axes (attribute before <paramref name="axesInputFrom"/>,
    /// input from it): one axis at a time with the axis kept, which is exact for these four reductions, then a
    /// reshape that drops the reduced axes unless keepdims. No axes means every axis, unless noop_with_empty_axes.
    /// </summary>
    internal static int ReadReduce(Reading r, NodeProto node, string name, NodeAttributes a, ReduceKind kind, int axesInputFrom)
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

}
