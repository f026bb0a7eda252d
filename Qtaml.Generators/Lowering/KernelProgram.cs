using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Model;

namespace Qtaml.Generators.Lowering;

/// <summary>How a value's floats are ordered in its buffer.</summary>
internal enum Layout
{
    /// <summary>Row-major in the shape the ONNX graph gives it: for an image, one plane per channel.</summary>
    Planes,

    /// <summary>
    /// An image as [position][channel slot]: every position holds <see cref="ValueInfo.ChannelSlots"/> floats, the
    /// channels then padding up to whole vectors. Convolutions read and write whole vectors of channels this way.
    /// </summary>
    ChannelsLast,
}

/// <summary>
/// A value the program computes: its ONNX shape and how it is stored. A channels-last value is a stack of images,
/// (N, C, positions...), stored image after image, each as [position][channel slot].
/// </summary>
internal sealed record ValueInfo(EquatableArray<int> Shape, Layout Layout, int ChannelSlots, int Within = -1, int ChannelOffset = 0)
{
    // Within: for a part of a Concat written in place (ConcatInPlace), the Concat's value, whose storage this one is
    // inside: its channels from ChannelOffset on, each position ChannelSlots (the Concat's slots) apart; −1 otherwise.

    /// <summary>Whether the value is stored inside another (<see cref="Within"/>).</summary>
    public bool IsView => Within >= 0;

    /// <summary>The number of elements of the shape.</summary>
    public int Length => Shape.Aggregate(1, (a, b) => a * b);

    /// <summary>The images of an image value (axis 0).</summary>
    public int Images => Shape[0];

    /// <summary>The channels of an image value (axis 1).</summary>
    public int Channels => Shape[1];

    /// <summary>Positions of one image (every axis after the channel axis).</summary>
    public int Positions => Shape.Skip(2).Aggregate(1, (a, b) => a * b);

    /// <summary>The floats the value takes as stored (a view: from its first channel to the end of the value it is inside).</summary>
    public int StoredLength => Layout == Layout.ChannelsLast ? Images * Positions * ChannelSlots - ChannelOffset : Length;

    /// <summary>One image of an image value, as the per-image kernels (convolution, pooling) see it.</summary>
    public ValueInfo Image()
    {
        int[] shape = Shape.ToArray();
        shape[0] = 1;
        return this with { Shape = new EquatableArray<int>(shape) };
    }

    public static ValueInfo InPlanes(int[] shape) => new(new EquatableArray<int>(shape), Layout.Planes, 0);
}

/// <summary>Which kernel computes a step; for weight layers it also fixes the order of the stored codes.</summary>
internal enum Kernel
{
    /// <summary>The operator's only kernel (element-wise, normalization, shape operators).</summary>
    Default,

    /// <summary>A dense layer on one row: dot products over the file's [out][in] rows.</summary>
    DenseRow,

    /// <summary>A dense layer on many rows (token-wise projections): an [in][out] table every row reuses.</summary>
    DenseRows,

    /// <summary>A convolution as a table of weights by tap and output channel (in panels of 16 channels where they divide) multiplied with broadcast inputs, channel vectors by position blocks.</summary>
    ConvTable,

    /// <summary>A depthwise convolution (one input channel per output channel): [tap][channel] vectors times input vectors.</summary>
    ConvDepthwise,

    /// <summary>A grouped convolution that neither table kernel covers: direct loops over channel-major planes.</summary>
    ConvDirect,

    /// <summary>Layout conversion: a channels-last value back to planes.</summary>
    ToPlanes,

    /// <summary>A copy into an output span, for an output that is a graph input or that another output already holds.</summary>
    Copy,
}

/// <summary>
/// One step of the program: a layer of the network (or a layout conversion, <see cref="Layer"/> = −1) reading
/// values and writing one. <see cref="Method"/> is the generated method's name.
/// </summary>
internal sealed record Step(string Method, int Layer, Kernel Kernel, EquatableArray<int> Inputs, int Output, bool FusedRelu, int GuardValue = -1, bool GuardWhen = false, bool Splits = false, EquatableArray<Step> Chain = default, bool FusedAdd = false, int InputShuffle = 0)
{
    // InputShuffle: for a depthwise convolution that reads its input through a channel shuffle (FoldChannelShuffles),
    // the shuffle's first factor a: its input's C = a·b channels are read as [a][b] and staged as [b][a] at each
    // position (staged channel j·a + i is input channel i·b + j); 0 for every other step.

    // FusedAdd: the step adds its second input, element by element, to the results it stores, before a fused ReLU:
    // a residual Add folded into the convolution that computes one of its operands (FuseResidualAdds).

    // Chain: for a step of fused element-wise operators (FuseElementwise), the steps it computes in one pass, in
    // order, each over the values it read and wrote before fusion; empty for every other step.

    // Splits: whether a run given a WorkerPool splits the step's multiply-adds across its threads (SplitLayers).

    /// <summary>Whether the step runs only when value <see cref="GuardValue"/> is <see cref="GuardWhen"/> (a branch of an If).</summary>
    public bool IsGuarded => GuardValue >= 0;

    public bool IsConversion => Kernel is Kernel.ToPlanes or Kernel.Copy;
}

/// <summary>
/// Where a value lives while the program runs: a slice of the arena from <see cref="Offset"/>, or the whole span
/// the caller passed for graph input or output number <see cref="Port"/>.
/// </summary>
internal sealed record Placement(Buffer Buffer, int Offset, int Port = 0);

internal enum Buffer { Input, Arena, Output }

/// <summary>
/// The network lowered to kernels: steps in execution order over numbered values (value 0 is the first input), each
/// value stored in a layout and placed in a buffer. Built by <see cref="ProgramCompiler"/>: lowering, then the
/// passes, each a function from program to program, then printed once by <c>Emit.ProgramPrinter</c>.
/// Reshapes are not steps: a reshaped value is an alias (<see cref="Alias"/>) of the value it reshapes.
/// </summary>
internal sealed record KernelProgram(
    EquatableArray<Step> Steps,
    EquatableArray<ValueInfo> Values,
    EquatableArray<int> Alias,
    EquatableArray<int> InputValues,
    EquatableArray<int> OutputValues,
    EquatableArray<Placement> Placements,
    int ArenaFloats)
{
    /// <summary>The value of the first output.</summary>
    public int OutputValue => OutputValues[0];

    /// <summary>The value whose storage <paramref name="value"/> shares: itself, or what a chain of reshapes read.</summary>
    public int Root(int value)
    {
        while (Alias[value] != value) value = Alias[value];
        return value;
    }

    /// <summary>
    /// For each value, how many read it: the steps that take it as an input (each step once), the reshapes (aliases)
    /// of it, and the graph's outputs. A value with one reader is consumed by that reader alone, so a pass may fold
    /// the step that writes it into the one that reads it.
    /// </summary>
    public int[] Readers()
    {
        var readers = new int[Values.Count];
        foreach (Step step in Steps)
            foreach (int input in step.Inputs.Distinct()) readers[input]++;
        for (int v = 0; v < Alias.Count; v++)
            if (Alias[v] != v) readers[Alias[v]]++;
        foreach (int output in OutputValues) readers[output]++;
        return readers;
    }

    /// <summary>For each network layer that is a step, the kernel chosen for it.</summary>
    public Dictionary<int, Kernel> KernelsByLayer() => Steps.Where(s => !s.IsConversion).ToDictionary(s => s.Layer, s => s.Kernel);
}
