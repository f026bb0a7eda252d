using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Model;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Lowering;

/// <summary>
/// Chooses each value's layout. A table or depthwise convolution writes channels-last (a vector of channels per
/// position), and ReLU, pooling and element-wise operations of equal channels-last shapes (a residual add) keep
/// it, in any graph, as do a Concat of channels-last values along the channels, an image combined with one value per
/// channel (a squeeze-and-excitation scale), a map of positions only (nearest Resize, Pad, Slice of the image's
/// positions) and a channel shuffle (a Transpose that permutes the channels of each position, stored in its input's
/// shape so the Reshape back reads it as it is). Every other reader gets the ONNX graph's planes: a conversion step
/// is inserted once per value, before its first such reader, and the outputs are always planes. Convolutions read
/// either layout.
/// </summary>
internal static class AssignLayouts
{
    /// <summary>Channels are padded to whole groups of 8: two Vector128, one Vector256, half a Vector512.</summary>
    public const int SlotMultiple = 8;

    public static int Slots(int channels) => (channels + SlotMultiple - 1) / SlotMultiple * SlotMultiple;

    public static KernelProgram Run(NetworkGraph graph, KernelProgram program)
    {
        var values = program.Values.ToList();
        var alias = program.Alias.ToList();
        var steps = new List<Step>();
        var planesOf = new Dictionary<int, int>();

        int Root(int v)
        {
            while (alias[v] != v) v = alias[v];
            return v;
        }

        bool IsChannelsLast(int v) => values[Root(v)].Layout == Layout.ChannelsLast;

        // The value read in planes: itself, or (once per value) a conversion inserted here. A reshape of a
        // channels-last value is re-pointed at the conversion, so the alias reads planes too.
        int InPlanes(int v)
        {
            int root = Root(v);
            if (values[root].Layout == Layout.Planes) return v;
            if (!planesOf.TryGetValue(root, out int converted))
            {
                ValueInfo source = values[root];
                converted = values.Count;
                values.Add(source with { Layout = Layout.Planes, ChannelSlots = 0 });
                alias.Add(converted);
                steps.Add(new Step(ToPlanesName(source), -1, Kernel.ToPlanes, new EquatableArray<int>(new[] { root }), converted, FusedRelu: false));
                planesOf[root] = converted;
            }
            if (v == root) return converted;
            int link = v;
            while (alias[link] != root) link = alias[link];
            alias[link] = converted;
            return v;
        }

        foreach (Step step in program.Steps)
        {
            Layer layer = graph.Layers[step.Layer];
            // Stored in the shape the layer reads it as (the graph's shape for it): not a reshape, or one its storage
            // already has (the Reshape back after a channel shuffle).
            bool direct(int v) => values[Root(v)].Shape.Equals(program.Values[v].Shape);
            int[] inputs = step.Inputs.ToArray();
            int slots = 0;
            switch (step.Kernel)
            {
                case Kernel.ConvTable or Kernel.ConvDepthwise:
                    if (!direct(inputs[0])) inputs[0] = InPlanes(inputs[0]);
                    slots = step.Kernel == Kernel.ConvTable ? WeightOrder.OutputSlots((ConvLayer)layer) : Slots(((ConvLayer)layer).OutChannels);
                    break;
                case Kernel.Default when KeepsLayout(layer) && inputs.Length > 0 && inputs.All(v => direct(v) && IsChannelsLast(v))
                    && inputs.Select(v => values[Root(v)].ChannelSlots).Distinct().Count() == 1
                    && inputs.All(v => values[Root(v)].Shape.Equals(values[Root(inputs[0])].Shape)):
                    slots = values[Root(inputs[0])].ChannelSlots;
                    break;
                case Kernel.Default when layer is ConcatLayer concat && concat.Axis == 1 && concat.OutputShape.Length >= 3
                    && concat.Parts.All(p => !p.IsConstant) && inputs.All(v => direct(v) && IsChannelsLast(v)):
                    // Parallel branches joined along the channels (SqueezeNet's Fire modules, Inception): each position's
                    // channels copied into place, channels-last, rather than both branches converted to planes.
                    slots = Slots(concat.OutputShape[1]);
                    break;
                case Kernel.Default when layer is BinaryLayer scale && ScalesChannels(scale) && direct(inputs[BigOperand(scale)]) && IsChannelsLast(inputs[BigOperand(scale)]):
                {
                    // A squeeze-and-excitation scale (x · s, s one value per channel) and its kin: channels-last, each
                    // position's channel vector combined with the channel values. Those are the first C floats of the
                    // small operand's storage when it is in planes or is one position channels-last; else converted.
                    int small = 1 - BigOperand(scale);
                    ValueInfo channelValues = values[Root(inputs[small])];
                    if (channelValues.Layout == Layout.ChannelsLast && channelValues.Images * channelValues.Positions != 1) inputs[small] = InPlanes(inputs[small]);
                    slots = values[Root(inputs[1 - small])].ChannelSlots;
                    break;
                }
                case Kernel.Default when layer is AxisMapLayer map && MapsPositionsOnly(map) && direct(inputs[0]) && IsChannelsLast(inputs[0]):
                    // Resize (nearest), Pad, Slice or Tile of the positions only (the detector's upsampling before its
                    // FPN adds): each output position a copy of an input position's channel vector.
                    slots = values[Root(inputs[0])].ChannelSlots;
                    break;
                case Kernel.Default when layer is TransposeLayer transpose && IsChannelsLast(inputs[0])
                    && ShufflesChannels(transpose, values[Root(inputs[0])].Shape.ToArray()):
                {
                    // A channel shuffle (ShuffleNet's Reshape, Transpose, Reshape): at each position a permutation of
                    // the channels, written channels-last in the stored shape of its input, which the Reshape back reads
                    // directly, rather than converting to planes, transposing planes and staging channels-last again.
                    ValueInfo source = values[Root(inputs[0])];
                    values[step.Output] = source with { };
                    steps.Add(step with { Inputs = new EquatableArray<int>(inputs) });
                    continue;
                }
                default:
                    inputs = inputs.Select(InPlanes).ToArray();
                    break;
            }
            if (slots > 0) values[step.Output] = values[step.Output] with { Layout = Layout.ChannelsLast, ChannelSlots = slots };
            steps.Add(step with { Inputs = new EquatableArray<int>(inputs) });
        }
        int[] outputs = program.OutputValues.Select(InPlanes).ToArray();
        return program with
        {
            Steps = new EquatableArray<Step>(steps),
            Values = new EquatableArray<ValueInfo>(values),
            Alias = new EquatableArray<int>(alias),
            OutputValues = new EquatableArray<int>(outputs),
        };
    }

    /// <summary>Whether an axis map of an image (N, C, positions...) leaves its images and channels as they are: it only picks positions.</summary>
    public static bool MapsPositionsOnly(AxisMapLayer map)
    {
        int[] input = map.InputShape;
        return input.Length >= 3 && Enumerable.Range(0, 2).All(axis => map.Sources[axis].SequenceEqual(Enumerable.Range(0, input[axis])));
    }

    /// <summary>
    /// Whether a binary operator combines an image (N, C, positions...) with one value per channel (1, C, 1...), both
    /// values of the graph: a product, sum or difference (the operators whose padding slots stay finite with a zero).
    /// </summary>
    public static bool ScalesChannels(BinaryLayer b)
    {
        if (b.Kind is not (BinaryKind.Mul or BinaryKind.Add or BinaryKind.Sub) || b.Left.IsConstant || b.Right.IsConstant || b.Left.Value == b.Right.Value) return false;
        int[] output = b.OutputShape;
        if (output.Length < 3) return false;
        Operand big = BigOperand(b) == 0 ? b.Left : b.Right, small = BigOperand(b) == 0 ? b.Right : b.Left;
        if (!big.Shape.SequenceEqual(output) || small.Shape.Length != output.Length || small.Shape[0] != 1 || small.Shape[1] != output[1]) return false;
        return small.Shape.Skip(2).All(d => d == 1) && output.Skip(2).Aggregate(1, (a, d) => a * d) > 1;
    }

    /// <summary>Which operand of a <see cref="ScalesChannels"/> operator is the image: 0 the left, 1 the right (the other's shape is smaller).</summary>
    public static int BigOperand(BinaryLayer b) => b.Left.Length >= b.Right.Length ? 0 : 1;

    /// <summary>
    /// Whether a transpose only regroups channels: its input is a value of shape (N, C, positions...) read as (N, a, b,
    /// positions...) with a·b = C, and it swaps a and b, so each position's channels are permuted among themselves.
    /// </summary>
    public static bool ShufflesChannels(TransposeLayer transpose, int[] stored)
    {
        int[] shape = transpose.InputShape, perm = transpose.Perm;
        if (stored.Length < 3 || shape.Length != stored.Length + 1 || shape[0] != stored[0] || (long)shape[1] * shape[2] != stored[1]) return false;
        for (int d = 3; d < shape.Length; d++)
            if (shape[d] != stored[d - 1]) return false;
        if (perm[0] != 0 || perm[1] != 2 || perm[2] != 1) return false;
        for (int d = 3; d < perm.Length; d++)
            if (perm[d] != d) return false;
        return true;
    }

    /// <summary>Operators that compute each channel at each position alike, so they work on either layout.</summary>
    private static bool KeepsLayout(Layer layer) => layer switch
    {
        ReluLayer => true,
        PoolLayer p => !p.IsVolumetric,
        // Element-wise of values only, or with a scalar constant (which applies to the padding slots harmlessly).
        BinaryLayer b => b.Kind != BinaryKind.Pow && (!b.Left.IsConstant || b.Left.Length == 1) && (!b.Right.IsConstant || b.Right.Length == 1) && b.OutputShape.Length >= 2,
        UnaryLayer => true,
        _ => false,
    };

    public static string ToPlanesName(ValueInfo value) =>
        "ToPlanes_" + string.Join("x", value.Shape) + "_Slots" + value.ChannelSlots;
}
