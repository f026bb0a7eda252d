using System;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// Resize with constant scales or sizes, axis by axis (both modes are separable). Nearest: each output index reads one
/// input index, a copy through an index table (<see cref="AxisMapLayer"/>). Linear: each output index is
/// (1 − f)·x[i0] + f·x[i1], two such copies weighted by constants along the axis and added. The coordinate transforms of
/// opsets 10-19: half_pixel, asymmetric, align_corners, pytorch_half_pixel (and half_pixel_symmetric); nearest modes
/// round_prefer_floor, round_prefer_ceil, floor and ceil. Cubic, tf_crop_and_resize, antialias and
/// keep_aspect_ratio_policy other than stretch are diagnostics.
/// </summary>
internal static partial class OnnxReader
{
    internal static int ReadResize(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        NetworkBuilder network = r.Network;
        int value = r.Data(node, name);
        int[] shape = network.ShapeOf(value);
        int rank = shape.Length;
        string mode = a.String("mode", "nearest");
        string transform = r.Opset >= 11 ? a.String("coordinate_transformation_mode", "half_pixel") : "asymmetric";
        string nearestMode = r.Opset >= 11 ? a.String("nearest_mode", "round_prefer_floor") : "floor";
        if (mode == "cubic") throw network.Mismatch(name, "Resize with mode = cubic is not supported; nearest and linear are");
        if (mode is not ("nearest" or "linear")) throw Malformed(r, name, "Resize", "has mode '" + mode + "'; ONNX defines nearest, linear and cubic");
        if (transform == "tf_crop_and_resize") throw network.Mismatch(name, "Resize with coordinate_transformation_mode = tf_crop_and_resize is not supported");
        if (transform is not ("half_pixel" or "asymmetric" or "align_corners" or "pytorch_half_pixel" or "half_pixel_symmetric"))
            throw Malformed(r, name, "Resize", "has coordinate_transformation_mode '" + transform + "'");
        if (nearestMode is not ("round_prefer_floor" or "round_prefer_ceil" or "floor" or "ceil"))
            throw Malformed(r, name, "Resize", "has nearest_mode '" + nearestMode + "'");
        if (a.Int("antialias", 0) != 0) throw network.Mismatch(name, "Resize with antialias = 1 is not supported");
        if (a.String("keep_aspect_ratio_policy", "stretch") != "stretch") throw network.Mismatch(name, "Resize with keep_aspect_ratio_policy other than stretch is not supported");

        // The axes resized (opset 18 may name some), and per axis a scale and an output size.
        long[] axesAttribute = a.Ints("axes");
        int[] axes = axesAttribute.Length == 0 ? Enumerable.Range(0, rank).ToArray() : axesAttribute.Select(x => r.Axis(value, x, name, "Resize")).ToArray();
        int scalesInput = r.Opset >= 11 ? 2 : 1, sizesInput = 3;
        float[]? scales = null;
        if (node.Input.Count > scalesInput && node.Input[scalesInput].Length > 0)
        {
            if (r.IsValue(node.Input[scalesInput])) throw network.Mismatch(name, "Resize's scales are computed at run time; Qtaml needs them as constants");
            scales = r.Context.Tensor(node.Input[scalesInput], name).Values;
            if (scales.Length == 0) scales = null;
        }
        long[]? sizes = r.Opset >= 11 && node.Input.Count > sizesInput && node.Input[sizesInput].Length > 0 ? ConstantInts(r, node, name, sizesInput, "sizes") : null;
        if ((scales is null) == (sizes is null)) throw Malformed(r, name, "Resize", "must give exactly one of scales and sizes");
        if ((scales?.Length ?? sizes!.Length) != axes.Length) throw Malformed(r, name, "Resize", "gives " + (scales?.Length ?? sizes!.Length) + " scales or sizes for " + axes.Length + " axes");

        int current = value;
        for (int i = 0; i < axes.Length; i++)
        {
            int axis = axes[i], size = shape[axis];
            double scale;
            long output;
            if (scales is not null)
            {
                scale = scales[i];
                if (!(scale > 0) || double.IsInfinity(scale)) throw Malformed(r, name, "Resize", "has scale " + scales[i] + " on axis " + axis + "; scales are positive");
                output = (long)Math.Floor(size * scale);
            }
            else
            {
                output = sizes![i];
                scale = (double)output / size;
            }
            if (output < 1 || output > AxisTables.MaxAxisLength) throw network.Mismatch(name, "Resize makes " + output + " positions on axis " + axis);
            if (output == size && scale == 1) continue;
            current = ResizeAxis(network, name, current, axis, size, (int)output, scale, mode == "linear", transform, nearestMode);
        }
        return current;
    }

    /// <summary>The input coordinate output index <paramref name="x"/> maps to.</summary>
    private static double Original(string transform, int x, int size, int output, double scale) => transform switch
    {
        "asymmetric" => x / scale,
        "align_corners" => output == 1 ? 0 : x * (size - 1.0) / (output - 1.0),
        "pytorch_half_pixel" => output > 1 ? (x + 0.5) / scale - 0.5 : 0,
        "half_pixel_symmetric" => size / 2.0 * (1 - output / (scale * size)) + (x + 0.5) / scale - 0.5,
        _ => (x + 0.5) / scale - 0.5,   // half_pixel
    };

    private static int ResizeAxis(NetworkBuilder network, string name, int value, int axis, int size, int output, double scale, bool linear, string transform, string nearestMode)
    {
        int[] shape = network.ShapeOf(value);
        int[][] Tables(Func<int, int> source) => shape.Select((d, k) => k == axis ? Enumerable.Range(0, output).Select(source).ToArray() : AxisTables.Identity(d)).ToArray();
        string where = name + " (axis " + axis + ")";
        if (!linear)
        {
            network.Current = value;
            return network.AxisMap(where, "Resize", Tables(x =>
            {
                double original = Original(transform, x, size, output, scale);
                double floor = Math.Floor(original), fraction = original - floor;
                double picked = nearestMode switch
                {
                    "floor" => floor,
                    "ceil" => Math.Ceiling(original),
                    "round_prefer_ceil" => fraction >= 0.5 ? floor + 1 : floor,
                    _ => fraction > 0.5 ? floor + 1 : floor,   // round_prefer_floor
                };
                return (int)Math.Max(0, Math.Min(size - 1, picked));
            }));
        }
        // Linear: the coordinate clamped into the input, its two neighbours and the weight of the upper one.
        var low = new int[output];
        var high = new int[output];
        var upper = new float[output];
        for (int x = 0; x < output; x++)
        {
            double original = Math.Max(0, Math.Min(size - 1, Original(transform, x, size, output, scale)));
            int i0 = (int)Math.Floor(original);
            low[x] = i0;
            high[x] = Math.Min(size - 1, i0 + 1);
            upper[x] = (float)(original - i0);
        }
        int[] along = Enumerable.Range(0, shape.Length - axis).Select(k => k == 0 ? output : 1).ToArray();   // [output, 1, ...]: broadcast along the axis
        network.Current = value;
        int lows = network.AxisMap(where + " lower neighbours", "Resize", Tables(x => low[x]));
        network.Current = value;
        int highs = network.AxisMap(where + " upper neighbours", "Resize", Tables(x => high[x]));
        int weightedLow = network.Binary(where + " (1 − f) lower", BinaryKind.Mul, network.ValueOperand(lows), Operand.OfConstant(upper.Select(f => 1 - f).ToArray(), along));
        int weightedHigh = network.Binary(where + " f upper", BinaryKind.Mul, network.ValueOperand(highs), Operand.OfConstant(upper, along));
        return network.Binary(where, BinaryKind.Add, network.ValueOperand(weightedLow), network.ValueOperand(weightedHigh));
    }
}
