using Qtaml.Generators.Network;

namespace Qtaml.Generators.Lowering;

/// <summary>
/// Lowers a network into a <see cref="KernelProgram"/> and runs the passes over it, in this order:
/// <list type="number">
/// <item><see cref="Lower"/>: one step per layer over the network's values, reshapes as aliases.</item>
/// <item><see cref="FuseActivations"/>: a ReLU folded into the step that computes its input.</item>
/// <item><see cref="ChooseKernels"/>: each step's kernel, and with it the order of a weight layer's stored codes.</item>
/// <item><see cref="AssignLayouts"/>: channels-last runs through convolutions, pools and residual adds; conversions back to planes where a reader needs them.</item>
/// <item><see cref="FoldChannelShuffles"/>: a channel shuffle read by a depthwise convolution done as it stages its input.</item>
/// <item><see cref="FuseResidualAdds"/>: a residual Add done by the table convolution that computes one of its operands, as it stores.</item>
/// <item><see cref="FuseElementwise"/>: consecutive element-wise steps over one stored form as one pass.</item>
/// <item><see cref="ConcatInPlace"/>: a Concat of convolutions' outputs along the channels written by them in place, not copied.</item>
/// <item><see cref="PlanMemory"/>: every value a slice of one arena, reused once nothing reads it.</item>
/// <item><see cref="SplitLayers"/>: the steps large enough to split across a worker pool's threads.</item>
/// </list>
/// Then <see cref="ProgramVerifier"/> checks the result (reads after writes, one write per value, arena bounds and
/// liveness) on every build: it is linear in the steps, and a violation must stop the build, not ship.
/// </summary>
internal static class ProgramCompiler
{
    public static KernelProgram Compile(NetworkGraph graph)
    {
        KernelProgram program = Lower.Network(graph);
        program = FuseActivations.Run(graph, program);
        program = ChooseKernels.Run(graph, program);
        program = AssignLayouts.Run(graph, program);
        program = FoldChannelShuffles.Run(graph, program);
        program = FuseResidualAdds.Run(graph, program);
        program = FuseElementwise.Run(graph, program);
        program = ConcatInPlace.Run(graph, program);
        program = PlanMemory.Run(graph, program);
        program = SplitLayers.Run(graph, program);
        ProgramVerifier.Verify(program);
        return program;
    }
}
