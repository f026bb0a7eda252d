using System;
using System.Linq;
using Qtaml.Generators.Model;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Lowering;

/// <summary>
/// Picks each weight layer's kernel from its shape. The kernel fixes the order the layer's codes are stored in
/// (<see cref="WeightOrder"/>): the weight image is laid out from these choices, not from the network.
/// </summary>
internal static class ChooseKernels
{
    public static KernelProgram Run(NetworkGraph graph, KernelProgram program) =>
        program with { Steps = new EquatableArray<Step>(program.Steps.Select(s => s with { Kernel = For(graph.Layers[s.Layer]) })) };

    public static Kernel For(Layer layer) => layer switch
    {
        DenseLayer { Rows: 1 } => Kernel.DenseRow,
        DenseLayer => Kernel.DenseRows,
        // A 3-D convolution (rare in the models edge apps ship) runs the direct loops over planes, with their depth.
        ConvLayer { IsVolumetric: true } => Kernel.ConvDirect,
        ConvLayer { Groups: 1 } => Kernel.ConvTable,
        ConvLayer c when c.IsDepthwise => Kernel.ConvDepthwise,
        // A grouped convolution whose groups have at least a vector of 8 output channels runs as one table per group
        // (a group that is not whole vectors ends with a vector that overlaps the one before: ShuffleNet's groups of 28).
        ConvLayer c when c.OutChannels / c.Groups >= 8 => Kernel.ConvTable,
        ConvLayer => Kernel.ConvDirect,
        _ => Kernel.Default,
    };

    /// <summary>The kernel a weight layer runs and why, for the step's comment in the generated code; empty for the rest.</summary>
    public static string Reason(Layer layer, Kernel kernel) => (kernel, layer) switch
    {
        (Kernel.DenseRow, _) => "dense-row kernel: one input row, a dot product per output",
        (Kernel.DenseRows, DenseLayer d) => "dense-rows kernel: " + d.Rows + " rows share one [in][out] table",
        (Kernel.ConvTable, ConvLayer { Groups: 1 }) => "table kernel: [tap][output channel] vectors times broadcast inputs",
        (Kernel.ConvTable, ConvLayer c) => "table kernel per group: " + c.Groups + " groups of " + c.OutChannels / c.Groups + " output channels",
        (Kernel.ConvDepthwise, _) => "depthwise kernel: one channel per group, vectors of channels",
        (Kernel.ConvDirect, ConvLayer { IsVolumetric: true }) => "direct loops: a 3-D convolution",
        (Kernel.ConvDirect, ConvLayer c) => "direct loops: " + c.Groups + " groups of " + c.OutChannels / c.Groups + " output channels, less than a vector of 8",
        _ => "",
    };
}

/// <summary>Where a weight layer's codes sit in the weight image, given its kernel. The fault model does not care where a code sits within its layer.</summary>
internal static class WeightOrder
{
    /// <summary>The output channels of one panel of a table convolution's weights (see <see cref="TablePanel"/>).</summary>
    public const int PanelChannels = 16;

    /// <summary>
    /// The output channels per panel of a table convolution's weights: per group the table is [panel][tap][channel of
    /// the panel], so the kernel's pass over a chunk of channels reads each of its panels as one stream, every line
    /// whole. A table [tap][channel] of many channels has the pass read a few lines out of every tap's row and stream
    /// the whole table once per chunk: ResNet-50's 3x3 layers of 256 channels ran at half the speed (30 against 60
    /// billion multiply-adds a second on AVX-512). <see cref="PanelChannels"/>, a Vector512 and a whole number of
    /// every narrower vector, where a group's channels are whole panels; else the group's channels, one panel (the
    /// table [tap][channel]).
    /// </summary>
    public static int TablePanel(ConvLayer c)
    {
        int perGroup = c.OutChannels / c.Groups;
        return perGroup % PanelChannels == 0 || PadsToPanels(c) ? PanelChannels : perGroup;
    }

    /// <summary>The fewest output channels for which a table convolution's channels are padded to whole panels (<see cref="PadsToPanels"/>).</summary>
    public const int MinPaddedChannels = 256;

    /// <summary>
    /// Whether a table convolution of one group whose channels are whole vectors of 8 but not whole panels (a
    /// classifier's 1000-channel head) has its output padded to whole panels (<see cref="OutputSlots"/>) and its table
    /// in panels, the last holding the remaining 8 channels and 8 of zeros: its pass then reads each panel as one
    /// stream, where one [tap][channel] table has every pass read a piece of each 4000-byte row (SqueezeNet's head ran
    /// at 71·10⁹ multiply-adds a second against 85 for its other 1x1 layers). From <see cref="MinPaddedChannels"/>
    /// channels, where the 8 padding channels cost at most 3% more multiply-adds.
    /// </summary>
    public static bool PadsToPanels(ConvLayer c) =>
        c.Groups == 1 && c.OutChannels >= MinPaddedChannels && c.OutChannels % PanelChannels != 0 && c.OutChannels % AssignLayouts.SlotMultiple == 0;

    /// <summary>The channel slots of a table convolution's channels-last output: whole panels where <see cref="PadsToPanels"/>, else whole vectors of 8 (<see cref="AssignLayouts.Slots"/>).</summary>
    public static int OutputSlots(ConvLayer c) =>
        PadsToPanels(c) ? (c.OutChannels + PanelChannels - 1) / PanelChannels * PanelChannels : AssignLayouts.Slots(c.OutChannels);

    /// <summary>
    /// The table of an unquantized table convolution: per group [panel][tap][channel of the panel] (or [tap][channel]
    /// padded to the group's slots, one panel), a last panel short of channels padded with zeros to a whole panel.
    /// </summary>
    public static float[] Table(ConvLayer c, int groupSlots)
    {
        int taps = c.TapsPerGroup, perGroup = c.OutChannels / c.Groups, panel = TablePanel(c);
        var table = new float[(long)c.Groups * taps * groupSlots];
        for (int i = 0; i < c.Weights.Length; i++)
        {
            int oc = i / taps, tap = i % taps, channel = oc % perGroup;
            long at = (long)(oc / perGroup) * taps * groupSlots + (panel == perGroup ? (long)tap * groupSlots + channel : (long)channel / panel * taps * panel + tap * panel + channel % panel);
            table[at] = c.Weights[i];
        }
        return table;
    }

    /// <summary>Where code <paramref name="index"/> of the file's row-major weights is stored within its layer.</summary>
    public static int StoredPosition(Kernel kernel, WeightLayer layer, int index)
    {
        switch (kernel, layer)
        {
            case (Kernel.DenseRows, DenseLayer d):
                // [in][out]: the table every row reuses is a run of whole vectors per input.
                return index % d.InputCount * d.Outputs + index / d.InputCount;
            case (Kernel.ConvTable, ConvLayer c):
            {
                // Per group, [panel][tap][output channel of the panel]: the table the kernel converts once per call.
                // A last panel short of channels (PadsToPanels) stores only its channels: [tap][its channels].
                int taps = c.TapsPerGroup, perGroup = c.OutChannels / c.Groups, panel = TablePanel(c);
                int oc = index / taps, tap = index % taps, channel = oc % perGroup, width = Math.Min(panel, perGroup - channel / panel * panel);
                return oc / perGroup * taps * perGroup + channel / panel * taps * panel + tap * width + channel % panel;
            }
            case (Kernel.ConvDepthwise, ConvLayer c):
            {
                // [tap][channel]: a vector of channels per tap.
                int taps = c.Window.Size;
                return index % taps * c.OutChannels + index / taps;
            }
            default:
                return index;
        }
    }
}
