extern alias gen;
using Qtaml.Generators.Tests.Generator;
using Qtaml.Generators.Tests.Support;
using AssignLayouts = gen::Qtaml.Generators.Lowering.AssignLayouts;
using Buffer = gen::Qtaml.Generators.Lowering.Buffer;
using ChooseKernels = gen::Qtaml.Generators.Lowering.ChooseKernels;
using FuseActivations = gen::Qtaml.Generators.Lowering.FuseActivations;
using FuseElementwise = gen::Qtaml.Generators.Lowering.FuseElementwise;
using FuseResidualAdds = gen::Qtaml.Generators.Lowering.FuseResidualAdds;
using BinaryLayer = gen::Qtaml.Generators.Network.BinaryLayer;
using ConcatLayer = gen::Qtaml.Generators.Network.ConcatLayer;
using ProgramCompiler = gen::Qtaml.Generators.Lowering.ProgramCompiler;
using Kernel = gen::Qtaml.Generators.Lowering.Kernel;
using KernelProgram = gen::Qtaml.Generators.Lowering.KernelProgram;
using Layout = gen::Qtaml.Generators.Lowering.Layout;
using Lower = gen::Qtaml.Generators.Lowering.Lower;
using NetworkGraph = gen::Qtaml.Generators.Network.NetworkGraph;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;
using PlanMemory = gen::Qtaml.Generators.Lowering.PlanMemory;
using ProgramVerifier = gen::Qtaml.Generators.Lowering.ProgramVerifier;
using ReshapeLayer = gen::Qtaml.Generators.Network.ReshapeLayer;
using ReluLayer = gen::Qtaml.Generators.Network.ReluLayer;
using SplitLayers = gen::Qtaml.Generators.Lowering.SplitLayers;
using Step = gen::Qtaml.Generators.Lowering.Step;

namespace Qtaml.Generators.Tests.Lowering;

/// <summary>
/// Each pass of the lowering on its own, run in the compiler's order on small networks whose right answer is known:
/// what it changes, and what it must leave alone.
/// </summary>
public class LoweringPassTests
{
    private static NetworkGraph Read(OnnxModelBuilder builder, params long[] output) => OnnxReader.Read("model.onnx", builder.Build(output));

    /// <summary>The sample-shaped CNN: Conv, Relu, MaxPool, Conv, Relu, AveragePool, Flatten, Gemm, Softmax.</summary>
    private static NetworkGraph Cnn() => Read(TestModels.Cnn(), 1, 10);

    [Fact]
    public void Lower_makes_one_step_per_layer_and_a_reshape_an_alias_of_what_it_reads()
    {
        NetworkGraph graph = Cnn();
        KernelProgram program = Lower.Network(graph);
        int reshapes = graph.Layers.Count(l => l is ReshapeLayer);
        Assert.Equal(1, reshapes);
        Assert.Equal(graph.Layers.Length - reshapes, program.Steps.Count);
        int flatten = Array.FindIndex(graph.Layers, l => l is ReshapeLayer);
        // Value i + 1 is layer i's output: the flattened value shares the storage of the pool's output.
        Assert.Equal(graph.Layers[flatten].Inputs[0], program.Alias[flatten + 1]);
        Assert.All(program.Steps, s => Assert.Equal(Kernel.Default, s.Kernel));
        Assert.All(program.Values, v => Assert.Equal(Layout.Planes, v.Layout));
    }

    [Fact]
    public void FuseActivations_folds_a_relu_into_the_convolution_it_follows_but_not_one_whose_input_is_read_twice()
    {
        NetworkGraph cnn = Cnn();
        KernelProgram lowered = Lower.Network(cnn);
        KernelProgram fused = FuseActivations.Run(cnn, lowered);
        Assert.Equal(lowered.Steps.Count - 2, fused.Steps.Count);   // both ReLUs follow a Conv
        Assert.DoesNotContain(fused.Steps, s => cnn.Layers[s.Layer] is ReluLayer);
        Assert.Equal(2, fused.Steps.Count(s => s.FusedRelu));

        // A residual block: the Gemm's output feeds the ReLU and the Add, so the ReLU stays a step.
        var residual = new OnnxModelBuilder(new long[] { 1, 8 }, 4).Gemm(8, 8);
        string before = residual.Current;
        NetworkGraph graph = Read(residual.Relu().AddValue(before).Gemm(8, 4), 1, 4);
        KernelProgram program = FuseActivations.Run(graph, Lower.Network(graph));
        Assert.Contains(program.Steps, s => graph.Layers[s.Layer] is ReluLayer);
        Assert.DoesNotContain(program.Steps, s => s.FusedRelu && graph.Layers[s.Layer].Operator == "Gemm" && s.Layer == 0);
    }

    [Fact]
    public void ChooseKernels_picks_the_kernel_from_each_layers_shape()
    {
        NetworkGraph graph = Read(new OnnxModelBuilder(new long[] { 1, 8, 6, 6 }, 5)
            .Conv(8, 16, 3, pad: 1)
            .ConvNd(16, 16, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, group: 16)
            .ConvNd(16, 6, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, group: 2)
            .ConvNd(6, 56, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, group: 2)
            .Flatten().Gemm(56 * 36, 5), 1, 5);
        KernelProgram program = ChooseKernels.Run(graph, Lower.Network(graph));
        Kernel[] kernels = program.Steps.Select(s => s.Kernel).ToArray();
        // A plain 3x3 convolution: the table; one channel per group: depthwise; 2 groups of 3 output channels (less
        // than a vector of 8): direct loops; 2 groups of 28 (ShuffleNet's, not whole vectors): the table, per group;
        // a one-row dense layer: dot products over its rows.
        Assert.Equal(new[] { Kernel.ConvTable, Kernel.ConvDepthwise, Kernel.ConvDirect, Kernel.ConvTable, Kernel.DenseRow }, kernels);
    }

    [Fact]
    public void AssignLayouts_joins_channels_last_branches_along_the_channels_without_converting_them()
    {
        // SqueezeNet's Fire module: the two expansions stay channels-last, and so does their Concat (22 channels in 24
        // slots); the one conversion to planes is before the dense layer.
        NetworkGraph graph = Read(new OnnxModelBuilder(new long[] { 1, 8, 6, 6 }, 7).Fire(8, 6, 10, 12).Flatten().Gemm(22 * 36, 5), 1, 5);
        KernelProgram program = AssignLayouts.Run(graph, ChooseKernels.Run(graph, FuseActivations.Run(graph, Lower.Network(graph))));
        Step concat = program.Steps.Single(s => s.Layer >= 0 && graph.Layers[s.Layer].Operator == "Concat");
        Assert.Equal(Layout.ChannelsLast, program.Values[program.Root(concat.Output)].Layout);
        Assert.Equal(24, program.Values[program.Root(concat.Output)].ChannelSlots);
        Assert.All(concat.Inputs, v => Assert.Equal(Layout.ChannelsLast, program.Values[program.Root(v)].Layout));
        Assert.Single(program.Steps, s => s.Kernel == Kernel.ToPlanes);
    }

    [Fact]
    public void ConcatInPlace_has_each_expansion_write_its_channels_of_the_concat_and_drops_the_copy()
    {
        // A Fire module whose expansions are whole vectors of 8 channels (16 and 24 of 40): no Concat step; the two
        // convolutions' outputs are views of its value, placed inside its slice at channels 0 and 16.
        NetworkGraph graph = Read(new OnnxModelBuilder(new long[] { 1, 8, 6, 6 }, 7).Fire(8, 8, 16, 24).Flatten().Gemm(40 * 36, 5), 1, 5);
        KernelProgram program = ProgramCompiler.Compile(graph);
        int concatLayer = Array.FindIndex(graph.Layers, l => l.Operator == "Concat");
        Assert.DoesNotContain(program.Steps, s => s.Layer == concatLayer);
        int whole = concatLayer + 1;
        var parts = program.Values.Select((v, i) => (Value: v, Index: i)).Where(p => p.Value.Within == whole).OrderBy(p => p.Value.ChannelOffset).ToArray();
        Assert.Equal(new[] { 0, 16 }, parts.Select(p => p.Value.ChannelOffset));
        Assert.All(parts, p => Assert.Equal(40, p.Value.ChannelSlots));
        Assert.All(parts, p => Assert.Equal(Kernel.ConvTable, program.Steps.Single(s => s.Output == p.Index).Kernel));
        Assert.All(parts, p => Assert.Equal(program.Placements[whole].Offset + p.Value.ChannelOffset, program.Placements[p.Index].Offset));
        // The squeeze output both expansions read lies outside the Concat's slice (the verifier checks every overlap).
        ProgramVerifier.Verify(program);
    }

    [Fact]
    public void ConcatInPlace_leaves_a_concat_of_parts_with_padding_slots_or_read_elsewhere()
    {
        // 10 and 12 channels: each part's stores would reach its neighbour's channels. The Concat stays a copy.
        NetworkGraph padded = Read(new OnnxModelBuilder(new long[] { 1, 8, 6, 6 }, 7).Fire(8, 6, 10, 12).Flatten().Gemm(22 * 36, 5), 1, 5);
        KernelProgram program = ProgramCompiler.Compile(padded);
        Assert.Contains(program.Steps, s => s.Layer >= 0 && padded.Layers[s.Layer].Operator == "Concat");
        Assert.DoesNotContain(program.Values, v => v.IsView);

        // A part that another step reads too (the convolution after it) must be stored as itself.
        var builder = new OnnxModelBuilder(new long[] { 1, 8, 6, 6 }, 8);
        string narrow = Conv1x1(builder, 8, 16).Relu().Current;
        string wide = Conv1x1(builder.From(narrow), 16, 8).Relu().Current;
        builder.From(narrow).Node("Concat", new[] { wide }, OnnxModelBuilder.Int("axis", 1));
        NetworkGraph shared = Read(builder.Flatten().Gemm(24 * 36, 3), 1, 3);
        program = ProgramCompiler.Compile(shared);
        Assert.DoesNotContain(program.Values, v => v.IsView);
        ProgramVerifier.Verify(program);
    }

    [Fact]
    public void AssignLayouts_shuffles_channels_in_place_channels_last_and_converts_only_for_a_reader_of_planes()
    {
        // ShuffleNet's unit: grouped 1x1 convolution, Reshape (3 x 12 channels), Transpose, Reshape back, depthwise 3x3.
        // Nothing between the two convolutions is in planes: the one conversion is before the dense layer.
        OnnxModelBuilder Unit(OnnxModelBuilder b) => b.ConvNd(8, 36, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, group: 2)
            .Node("Reshape", new[] { b.Int64Initializer("split", new long[] { 1, 3, 12, 6, 6 }) })
            .Node("Transpose", Array.Empty<string>(), OnnxModelBuilder.Ints("perm", 0, 2, 1, 3, 4));
        var shuffled = Unit(new OnnxModelBuilder(new long[] { 1, 8, 6, 6 }, 7));
        NetworkGraph graph = Read(shuffled.Node("Reshape", new[] { shuffled.Int64Initializer("join", new long[] { 1, 36, 6, 6 }) })
            .ConvNd(36, 36, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, group: 36).Flatten().Gemm(36 * 36, 5), 1, 5);
        KernelProgram program = AssignLayouts.Run(graph, ChooseKernels.Run(graph, FuseActivations.Run(graph, Lower.Network(graph))));
        Step transpose = program.Steps.Single(s => s.Layer >= 0 && graph.Layers[s.Layer].Operator == "Transpose");
        var stored = program.Values[program.Root(transpose.Output)];
        Assert.Equal(Layout.ChannelsLast, stored.Layout);
        Assert.Equal(new[] { 1, 36, 6, 6 }, stored.Shape.ToArray());   // stored in its input's shape: the Reshape back reads it as it is
        Assert.Equal(40, stored.ChannelSlots);
        Assert.Equal(Layout.ChannelsLast, program.Values[program.Root(transpose.Inputs[0])].Layout);
        var steps = program.Steps.ToList();
        Step conversion = Assert.Single(steps, s => s.Kernel == Kernel.ToPlanes);
        Assert.Equal(steps.FindIndex(s => s.Layer >= 0 && graph.Layers[s.Layer].Operator == "Gemm") - 1, steps.IndexOf(conversion));

        // Read as the five-axis value it is (a Sigmoid of [1, 12, 3, 6, 6]): converted to planes once, in the shuffle's order.
        var read = Unit(new OnnxModelBuilder(new long[] { 1, 8, 6, 6 }, 7));
        NetworkGraph planes = Read(read.Node("Sigmoid", Array.Empty<string>()).Flatten().Gemm(36 * 36, 5), 1, 5);
        KernelProgram other = AssignLayouts.Run(planes, ChooseKernels.Run(planes, FuseActivations.Run(planes, Lower.Network(planes))));
        Step sigmoid = other.Steps.Single(s => s.Layer >= 0 && planes.Layers[s.Layer].Operator == "Sigmoid");
        Assert.Equal(Layout.Planes, other.Values[other.Root(sigmoid.Inputs[0])].Layout);
        Assert.Equal(Kernel.ToPlanes, other.Steps.Single(s => s.Output == other.Root(sigmoid.Inputs[0])).Kernel);
    }

    [Fact]
    public void A_ReLU_after_a_Concat_is_fused_into_it_and_moves_to_the_convolutions_that_write_it_in_place()
    {
        // Conv, then two convolutions without a ReLU of their own concatenated, then a ReLU.
        var b = new OnnxModelBuilder(new long[] { 1, 8, 6, 6 }, 7);
        string input = b.Current;
        string narrow = b.ConvNd(8, 8, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }).Current;
        string wide = b.From(input).ConvNd(8, 16, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }).Current;
        NetworkGraph graph = Read(b.From(narrow).Node("Concat", new[] { wide }, OnnxModelBuilder.Int("axis", 1)).Relu().Flatten().Gemm(24 * 36, 5), 1, 5);
        KernelProgram fused = FuseActivations.Run(graph, Lower.Network(graph));
        Assert.DoesNotContain(fused.Steps, s => graph.Layers[s.Layer] is ReluLayer);
        Assert.True(fused.Steps.Single(s => graph.Layers[s.Layer] is ConcatLayer).FusedRelu);

        KernelProgram program = ProgramCompiler.Compile(graph);
        Assert.DoesNotContain(program.Steps, s => s.Layer >= 0 && graph.Layers[s.Layer] is ConcatLayer);
        Step[] convolutions = program.Steps.Where(s => s.Kernel == Kernel.ConvTable).ToArray();
        Assert.Equal(2, convolutions.Length);
        Assert.All(convolutions, s => Assert.True(s.FusedRelu));
        Assert.All(convolutions, s => Assert.True(program.Values[s.Output].IsView));
    }

    [Fact]
    public void FoldChannelShuffles_stages_a_shuffle_read_only_by_a_depthwise_convolution_and_keeps_one_read_twice()
    {
        // Grouped 1x1 convolution, the shuffle (3 x 12) by Reshape, Transpose, Reshape, then a depthwise 3x3.
        OnnxModelBuilder Shuffled(OnnxModelBuilder b) => b.ConvNd(8, 36, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, group: 2)
            .Node("Reshape", new[] { b.Int64Initializer("split", new long[] { 1, 3, 12, 6, 6 }) })
            .Node("Transpose", Array.Empty<string>(), OnnxModelBuilder.Ints("perm", 0, 2, 1, 3, 4))
            .Node("Reshape", new[] { b.Int64Initializer("join", new long[] { 1, 36, 6, 6 }) });
        OnnxModelBuilder Depthwise(OnnxModelBuilder b) => b.ConvNd(36, 36, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, group: 36);

        var alone = Shuffled(new OnnxModelBuilder(new long[] { 1, 8, 6, 6 }, 7));
        NetworkGraph graph = Read(Depthwise(alone).Flatten().Gemm(36 * 36, 5), 1, 5);
        KernelProgram program = ProgramCompiler.Compile(graph);
        Assert.DoesNotContain(program.Steps, s => s.Layer >= 0 && graph.Layers[s.Layer].Operator == "Transpose");
        Step depthwise = Assert.Single(program.Steps, s => s.Kernel == Kernel.ConvDepthwise);
        Assert.Equal(3, depthwise.InputShuffle);
        // It reads the grouped convolution's output, as that was stored.
        Step grouped = Assert.Single(program.Steps, s => s.Kernel == Kernel.ConvTable);
        Assert.Equal(program.Root(grouped.Output), program.Root(depthwise.Inputs[0]));

        // The shuffled value also read by an Add: the Transpose stays a step and the convolution reads what it wrote.
        var twice = Shuffled(new OnnxModelBuilder(new long[] { 1, 8, 6, 6 }, 7));
        string shuffled = twice.Current;
        NetworkGraph both = Read(Depthwise(twice).Node("Add", new[] { shuffled }).Flatten().Gemm(36 * 36, 5), 1, 5);
        KernelProgram kept = ProgramCompiler.Compile(both);
        Step transpose = Assert.Single(kept.Steps, s => s.Layer >= 0 && both.Layers[s.Layer].Operator == "Transpose");
        Step reader = Assert.Single(kept.Steps, s => s.Kernel == Kernel.ConvDepthwise);
        Assert.Equal(0, reader.InputShuffle);
        Assert.Equal(kept.Root(transpose.Output), kept.Root(reader.Inputs[0]));
    }

    [Fact]
    public void AssignLayouts_scales_channels_last_images_by_one_value_per_channel_without_converting_them()
    {
        // A squeeze-and-excitation block: the image times HardSigmoid(Conv(Relu(Conv(GlobalAveragePool(image))))).
        // The product stays channels-last; the scales (one position) are read as they are; the one conversion is before the Gemm.
        var b = new OnnxModelBuilder(new long[] { 1, 8, 6, 6 }, 7).ConvNd(8, 12, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 });
        string image = b.Current;
        string scales = b.Node("GlobalAveragePool", Array.Empty<string>())
            .ConvNd(12, 4, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }).Relu()
            .ConvNd(4, 12, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 })
            .Node("HardSigmoid", Array.Empty<string>()).Current;
        NetworkGraph graph = Read(b.From(image).Node("Mul", new[] { scales }).Flatten().Gemm(12 * 36, 5), 1, 5);
        KernelProgram program = AssignLayouts.Run(graph, ChooseKernels.Run(graph, FuseActivations.Run(graph, Lower.Network(graph))));
        Step mul = program.Steps.Single(s => s.Layer >= 0 && graph.Layers[s.Layer].Operator == "Mul");
        var product = program.Values[program.Root(mul.Output)];
        Assert.Equal(Layout.ChannelsLast, product.Layout);
        Assert.Equal(16, product.ChannelSlots);
        Assert.All(mul.Inputs, v => Assert.Equal(Layout.ChannelsLast, program.Values[program.Root(v)].Layout));
        var steps = program.Steps.ToList();
        Step conversion = Assert.Single(steps, s => s.Kernel == Kernel.ToPlanes);
        Assert.Equal(steps.FindIndex(s => s.Layer >= 0 && graph.Layers[s.Layer].Operator == "Gemm") - 1, steps.IndexOf(conversion));
    }

    [Theory]
    [InlineData("ResizeNearest", true)]
    [InlineData("PadConstant", true)]
    [InlineData("PadReflect", true)]
    [InlineData("Tile", false)]    // repeats the channels too: planes
    [InlineData("Slice", false)]   // picks channels: planes
    public void AssignLayouts_keeps_a_map_of_positions_channels_last_and_one_of_channels_in_planes(string op, bool channelsLast)
    {
        // After OperatorComparisonTests' convolution (channels-last): a map that only picks positions copies channel vectors.
        (byte[] model, _) = OperatorComparisonTests.Build(op);
        NetworkGraph graph = OnnxReader.Read("model.onnx", model);
        KernelProgram program = AssignLayouts.Run(graph, ChooseKernels.Run(graph, FuseActivations.Run(graph, Lower.Network(graph))));
        // (A resize is one map per axis it scales.)
        var maps = program.Steps.Where(s => s.Layer >= 0 && graph.Layers[s.Layer].Operator is "Resize" or "Pad" or "Tile" or "Slice").ToList();
        Assert.NotEmpty(maps);
        Assert.All(maps, map =>
        {
            Assert.Equal(channelsLast ? Layout.ChannelsLast : Layout.Planes, program.Values[program.Root(map.Output)].Layout);
            Assert.Equal(channelsLast ? Layout.ChannelsLast : Layout.Planes, program.Values[program.Root(map.Inputs[0])].Layout);
        });
    }

    [Fact]
    public void AssignLayouts_keeps_convolutions_and_pools_channels_last_and_converts_once_before_the_dense_layer()
    {
        NetworkGraph graph = Cnn();
        KernelProgram program = AssignLayouts.Run(graph, ChooseKernels.Run(graph, FuseActivations.Run(graph, Lower.Network(graph))));
        var conversions = program.Steps.Where(s => s.Kernel == Kernel.ToPlanes).ToList();
        Assert.Single(conversions);
        var steps = program.Steps.ToList();
        int gemm = steps.FindIndex(s => s.Layer >= 0 && graph.Layers[s.Layer].Operator == "Gemm");
        Assert.Equal(steps.IndexOf(conversions[0]) + 1, gemm);
        foreach (var step in program.Steps.Where(s => s.Layer >= 0 && graph.Layers[s.Layer].Operator is "Conv" or "MaxPool" or "AveragePool"))
        {
            var value = program.Values[program.Root(step.Output)];
            Assert.Equal(Layout.ChannelsLast, value.Layout);
            Assert.Equal(0, value.ChannelSlots % AssignLayouts.SlotMultiple);
            Assert.True(value.ChannelSlots >= value.Channels);
        }
        Assert.All(program.OutputValues, v => Assert.Equal(Layout.Planes, program.Values[program.Root(v)].Layout));
    }

    /// <summary>The passes up to and including FuseResidualAdds, and the program before it.</summary>
    private static (KernelProgram Before, KernelProgram After) FuseResiduals(NetworkGraph graph)
    {
        KernelProgram before = AssignLayouts.Run(graph, ChooseKernels.Run(graph, FuseActivations.Run(graph, Lower.Network(graph))));
        return (before, FuseResidualAdds.Run(graph, before));
    }

    private static OnnxModelBuilder Conv1x1(OnnxModelBuilder b, int inChannels, int outChannels) =>
        b.ConvNd(inChannels, outChannels, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, scale: 0.3);

    [Fact]
    public void FuseResidualAdds_folds_a_residual_add_and_its_relu_into_the_convolution_computed_last()
    {
        // conv A -> ReLU (the skip), conv B -> ReLU -> conv C, then a shortcut conv D of the skip after C: Add(C, D) -> ReLU.
        var builder = new OnnxModelBuilder(new long[] { 1, 8, 6, 6 }, 21);
        string skip = Conv1x1(builder, 8, 16).Relu().Current;
        string c = Conv1x1(Conv1x1(builder, 16, 16).Relu(), 16, 16).Current;
        builder.From(skip);
        Conv1x1(builder, 16, 16).AddValue(c).Relu();
        NetworkGraph graph = Read(builder.Flatten().Gemm(16 * 36, 4), 1, 4);
        (KernelProgram before, KernelProgram after) = FuseResiduals(graph);

        Assert.Equal(before.Steps.Count - 1, after.Steps.Count);
        Assert.DoesNotContain(after.Steps, s => s.Layer >= 0 && graph.Layers[s.Layer] is BinaryLayer);
        var fused = Assert.Single(after.Steps, s => s.FusedAdd);
        var add = Assert.Single(before.Steps, s => s.Layer >= 0 && graph.Layers[s.Layer] is BinaryLayer);
        // D is computed after C, so D adds C: C's output is its second input, and it writes the Add's output with its ReLU.
        Assert.Equal(Kernel.ConvTable, fused.Kernel);
        Assert.Equal(add.Output, fused.Output);
        Assert.True(fused.FusedRelu);
        Assert.Equal(2, fused.Inputs.Count);
        Assert.Equal(add.Inputs[1], fused.Inputs[1]);   // C, the Add's second operand
        Assert.Equal(add.Inputs[0], before.Steps.Single(s => s.Layer == fused.Layer).Output);   // D computed the first
        ProgramVerifier.Verify(PlanMemory.Run(graph, after));
    }

    [Fact]
    public void FuseResidualAdds_leaves_an_add_whose_convolution_output_is_read_again_or_that_adds_the_graph_input()
    {
        // The conv's output feeds the Add and a later Add: it must be stored as it is.
        var twice = new OnnxModelBuilder(new long[] { 1, 8, 6, 6 }, 22);
        string skip = Conv1x1(twice, 8, 8).Relu().Current;
        string conv = Conv1x1(twice, 8, 8).Current;
        twice.AddValue(skip).AddValue(conv);
        NetworkGraph readTwice = Read(twice, 1, 8, 6, 6);
        (KernelProgram before, KernelProgram after) = FuseResiduals(readTwice);
        Assert.DoesNotContain(after.Steps, s => s.FusedAdd);
        Assert.Equal(before.Steps, after.Steps);

        // A block that adds the graph's input (which the caller owns, in planes) keeps its Add.
        var input = new OnnxModelBuilder(new long[] { 1, 8, 6, 6 }, 23);
        string x = input.Current;
        Conv1x1(input, 8, 8).AddValue(x);
        NetworkGraph addsInput = Read(input, 1, 8, 6, 6);
        Assert.DoesNotContain(FuseResiduals(addsInput).After.Steps, s => s.FusedAdd);
    }

    [Fact]
    public void PlanMemory_runs_a_chain_in_two_ping_pong_slices_and_writes_the_output_into_the_callers_span()
    {
        var builder = new OnnxModelBuilder(new long[] { 1, 8 }, 6);
        for (int i = 0; i < 6; i++) builder.Gemm(8, 8).Node("Sigmoid", Array.Empty<string>());
        NetworkGraph graph = Read(builder, 1, 8);
        KernelProgram before = AssignLayouts.Run(graph, ChooseKernels.Run(graph, FuseActivations.Run(graph, Lower.Network(graph))));
        KernelProgram program = PlanMemory.Run(graph, before);
        Assert.Equal(32, program.ArenaFloats);   // 11 intermediate values of 8 floats, two alive at a time, each in a slice of a cache line (16 floats)
        Assert.Equal(Buffer.Output, program.Placements[program.Root(program.OutputValue)].Buffer);
        Assert.Equal(Buffer.Input, program.Placements[program.InputValues[0]].Buffer);
        ProgramVerifier.Verify(program);
    }

    [Fact]
    public void SplitLayers_marks_the_large_convolutions_and_nothing_else()
    {
        // 48x48: a 1x1 conv 8 -> 64 (1.2M multiply-adds), a depthwise 3x3 (1.3M), a 1x1 conv 64 -> 4 (0.6M: too small),
        // a 3x3 conv 4 -> 16 (1.3M) whose channels-last result a conversion writes into the caller's output.
        var builder = new OnnxModelBuilder(new long[] { 1, 8, 48, 48 }, 3)
            .Conv(8, 64, 1)
            .ConvNd(64, 64, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, group: 64)
            .Conv(64, 4, 1)
            .Conv(4, 16, 3, pad: 1);
        NetworkGraph graph = Read(builder, 1, 16, 48, 48);
        KernelProgram before = PlanMemory.Run(graph, AssignLayouts.Run(graph, ChooseKernels.Run(graph, FuseActivations.Run(graph, Lower.Network(graph)))));
        KernelProgram program = SplitLayers.Run(graph, before);
        Assert.Equal(new[] { true, true, false, true, false }, program.Steps.Select(s => s.Splits));
        Assert.Equal(Kernel.ConvDepthwise, program.Steps[1].Kernel);
        Assert.True(program.Steps[4].IsConversion);
        Assert.Equal(Buffer.Output, program.Placements[program.Root(program.Steps[4].Output)].Buffer);
        // Nothing else changes.
        Assert.Equal(before.Steps.Select(s => s with { Splits = false }), program.Steps.Select(s => s with { Splits = false }));
        Assert.Equal(before.Placements, program.Placements);
    }

    [Fact]
    public void FuseElementwise_makes_a_hardswish_chain_one_step_and_keeps_a_value_read_outside_a_chain_in_memory()
    {
        // Mul, Add, Add, Clip, Mul, Div, Mul, Add, Clip (a lower bound only), HardSwish after the Conv: one step of ten.
        NetworkGraph chain = OnnxReader.Read("model.onnx", OperatorComparisonTests.Build("HardSwishChain").Model);
        KernelProgram program = ProgramCompiler.Compile(chain);
        Step fused = Assert.Single(program.Steps, s => s.Chain.Count > 0);
        Assert.Equal(10, fused.Chain.Count);
        Assert.Equal(fused.Chain[9].Output, fused.Output);
        Assert.Single(fused.Inputs);   // the convolution's output, read once for all ten

        // a = HardSigmoid(conv) is read by the chain and by a Sigmoid after it: only 2a and its Clip fuse, and a is still written.
        NetworkGraph outside = OnnxReader.Read("model.onnx", OperatorComparisonTests.Build("ChainWithAnOutsideReader").Model);
        KernelProgram before = AssignLayouts.Run(outside, ChooseKernels.Run(outside, FuseActivations.Run(outside, Lower.Network(outside))));
        KernelProgram after = FuseElementwise.Run(outside, before);
        Step pair = Assert.Single(after.Steps, s => s.Chain.Count > 0);
        Assert.Equal(2, pair.Chain.Count);
        Step hardSigmoid = before.Steps.First(s => s.Inputs.Contains(before.Steps[0].Output));
        Assert.Contains(after.Steps, s => s.Output == hardSigmoid.Output && s.Chain.Count == 0);
        Assert.Equal(before.Steps.Count - 1, after.Steps.Count);
    }
}
