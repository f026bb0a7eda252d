using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>Normalizations: BatchNormalization, LayerNormalization, InstanceNormalization, LRN, Softmax and LogSoftmax.</summary>
internal static partial class OnnxReader
{
    /// <summary>
    /// BatchNormalization at inference: y = x·a + c per channel (ONNX axis 1), a = γ/√(var + ε), c = β − a·mean.
    /// Folded into the Conv or flat dense layer before it when that layer's output has no other reader; otherwise
    /// computed as a broadcast multiply and add, which is exact for every reader.
    /// </summary>
    internal static int ReadBatchNormalization(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        NetworkBuilder network = r.Network;
        if (r.Opset < 9 && a.Int("spatial", 1) != 1) throw network.Mismatch(name, "BatchNormalization with spatial = 0 (per-element statistics) is not supported");
        if (a.Int("training_mode", 0) != 0) throw network.Mismatch(name, "BatchNormalization has training_mode = 1 (batch statistics); export the model in inference mode");
        int value = r.Data(node, name);
        int[] shape = network.Shape;
        if (shape.Length < 2) throw network.Mismatch(name, "BatchNormalization normalizes axis 1 of (N, C, ...), and its input is " + Shape.Format(shape));
        int channels = shape[1];
        float[] gamma = r.Context.Vector(node.Input[1], name, channels), beta = r.Context.Vector(node.Input[2], name, channels);
        float[] mean = r.Context.Vector(node.Input[3], name, channels), variance = r.Context.Vector(node.Input[4], name, channels);
        (float[] scale, float[] shift) = network.BatchNormalizationAffine(name, gamma, beta, mean, variance, a.Float("epsilon", 1e-5f));

        bool onlyReader = r.Uses.TryGetValue(node.Input[0], out int uses) && uses == 1;
        if (onlyReader && network.Producer(value) is WeightLayer producer and not EmbeddingLayer
            && (producer is ConvLayer || producer is DenseLayer { Rows: 1 }) && producer.Channels == channels)
        {
            producer.FoldAffine(scale, shift);
            return value;
        }
        int[] perChannel = new[] { channels }.Concat(Enumerable.Repeat(1, shape.Length - 2)).ToArray();
        int scaled = network.Binary(name + " (scale)", BinaryKind.Mul, network.ValueOperand(value), Operand.OfConstant(scale, perChannel));
        return network.Binary(name + " (shift)", BinaryKind.Add, network.ValueOperand(scaled), Operand.OfConstant(shift, perChannel));
    }

    /// <summary>LayerNormalization over the axes from 'axis' on, normalized together (the last axis of the input reshaped to [leading..., rest]).</summary>
    internal static int ReadLayerNormalization(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        NetworkBuilder network = r.Network;
        int value = r.Data(node, name);
        int axis = r.Axis(value, a.Int("axis", -1), name, "LayerNormalization");
        if (a.Int("stash_type", 1) != 1) throw network.Mismatch(name, "LayerNormalization with stash_type " + a.Int("stash_type", 1) + " is not supported; Qtaml computes its statistics in float32 (stash_type 1)");
        int[] shape = network.ShapeOf(value);
        int length = Shape.Length(shape.Skip(axis).ToArray());
        if (axis != shape.Length - 1) network.Reshape(name + " (axes from " + axis + " as one)", shape.Take(axis).Concat(new[] { length }).ToArray());
        float[]? beta = node.Input.Count > 2 && node.Input[2].Length > 0 ? r.Context.Vector(node.Input[2], name, length) : null;
        int normalized = network.LayerNorm(name, r.Context.Vector(node.Input[1], name, length), beta, a.Float("epsilon", 1e-5f));
        if (axis == shape.Length - 1) return normalized;
        network.Reshape(name + " (back to " + Shape.Format(shape) + ")", shape);
        return network.Current;
    }

    internal static int ReadInstanceNormalization(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        r.Data(node, name);
        if (r.Network.Shape.Length < 3) throw r.Network.Mismatch(name, "InstanceNormalization normalizes the planes of (N, C, positions...), and its input is " + Shape.Format(r.Network.Shape));
        int channels = r.Network.Shape[1];
        return r.Network.InstanceNorm(name, r.Context.Vector(node.Input[1], name, channels), r.Context.Vector(node.Input[2], name, channels), a.Float("epsilon", 1e-5f));
    }

    /// <summary>
    /// Local response normalization across channels, y = x / (bias + alpha/size · Σ x²)^beta, the sum over the size
    /// channels around each one (floor((size − 1)/2) before, the rest after, zeros outside). Written in layers Qtaml
    /// has: x², viewed as (N, 1, C, positions) and averaged over a (size × 1) window with zero padding counted (the sum
    /// over size), scaled, shifted, raised to −beta, times x.
    /// </summary>
    internal static int ReadLrn(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        NetworkBuilder network = r.Network;
        int x = r.Data(node, name);
        int[] shape = network.ShapeOf(x);
        if (shape.Length < 3) throw network.Mismatch(name, "LRN normalizes across the channels of (N, C, positions...), and its input is " + Shape.Format(shape));
        long size = a.Int("size", 0);
        if (size < 1 || size > 1 << 16) throw Malformed(r, name, "LRN", "has size " + size + "; ONNX needs a positive size");
        float alpha = a.Float("alpha", 1e-4f), beta = a.Float("beta", 0.75f), bias = a.Float("bias", 1f);
        if (!NetworkBuilder.IsFinite(alpha) || !NetworkBuilder.IsFinite(beta) || !NetworkBuilder.IsFinite(bias)) throw network.Mismatch(name, "LRN's alpha, beta and bias must be finite");
        int channels = shape[1], positions = Shape.Length(shape.Skip(2).ToArray());
        int squared = network.Binary(name + " (x²)", BinaryKind.Mul, network.ValueOperand(x), network.ValueOperand(x));
        network.Current = squared;
        network.Reshape(name + " (channels as rows)", new[] { shape[0], 1, channels, positions });
        int before = (int)((size - 1) / 2), after = (int)(size - 1 - before);
        network.Pool(name + " (mean over " + size + " channels)", PoolKind.Average, new Window((int)size, 1, 1, 1, before, 0), new[] { before, 0, after, 0 }, countIncludePad: true);
        network.Reshape(name + " (back to " + Shape.Format(shape) + ")", shape);
        int scaled = network.Binary(name + " (bias + alpha · mean)", BinaryKind.Mul, network.ValueOperand(network.Current), Operand.OfConstant(new[] { alpha }, Scalar));
        int shifted = network.Binary(name + " (shifted)", BinaryKind.Add, network.ValueOperand(scaled), Operand.OfConstant(new[] { bias }, Scalar));
        int divisor = network.Binary(name + " (^ -beta)", BinaryKind.Pow, network.ValueOperand(shifted), Operand.OfConstant(new[] { -beta }, Scalar));
        return network.Binary(name, BinaryKind.Mul, network.ValueOperand(x), network.ValueOperand(divisor));
    }

    /// <summary>
    /// Softmax. From opset 13 it normalizes one axis (default the last). Before, it coerced its input to 2-D at
    /// the axis (default 1) and normalized the flattened block of every axis from there on: the same as a softmax
    /// over the last axis of the input reshaped to [leading..., rest], which is how it is compiled.
    /// </summary>
    internal static int ReadSoftmax(Reading r, NodeProto node, string name, NodeAttributes a, bool log = false)
    {
        NetworkBuilder network = r.Network;
        int value = r.Data(node, name);
        int[] shape = network.Shape;
        if (r.Opset >= 13)
        {
            int axis = r.Axis(value, a.Int("axis", -1), name, "Softmax");
            if (axis != shape.Length - 1) throw network.Mismatch(name, node.OpType + " over axis " + axis + " of " + Shape.Format(shape) + " is not supported; Qtaml normalizes the last axis");
            network.Softmax(name, log);
            return network.Current;
        }
        int start = r.Axis(value, a.Int("axis", 1), name, node.OpType);
        if (start == shape.Length - 1)
        {
            network.Softmax(name, log);
            return network.Current;
        }
        int[] coerced = shape.Take(start).Concat(new[] { Shape.Length(shape.Skip(start).ToArray()) }).ToArray();
        network.Reshape(name + " (coerced to 2-D, opset " + r.Opset + ")", coerced);
        network.Softmax(name, log);
        network.Reshape(name + " (back to " + Shape.Format(shape) + ")", shape);
        return network.Current;
    }
}
