using System.Linq;
using Qtaml.Generators.Model;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Lowering;

/// <summary>
/// Marks the steps a run with a <c>WorkerPool</c> splits across threads: convolutions computed by the table or the
/// depthwise kernel (their output positions, or rows, are independent) and dense layers applied to many rows (a
/// transformer's projections: rows independent too) with at least <see cref="MinMultiplyAdds"/> multiply-adds, one
/// image, outside an If, writing the arena. The kernel's parts then read what the calling
/// thread prepared (the weight table, the staged input) and write disjoint slices of the output, which the workers
/// can reach only in memory the generated class owns: the arena, not the caller's output span.
/// </summary>
internal static class SplitLayers
{
    /// <summary>
    /// Below this, handing parts to the workers (a few microseconds each) costs about what the half of the layer they
    /// take saves: a million multiply-adds is 12-15 µs on an AVX-512 core at 70-85·10⁹ a second, 50-100 µs on an SSE
    /// one. Measured on ShuffleNet (layers of 1-15M): splitting from 1M was 7-10% faster on two threads than from 8M.
    /// </summary>
    public const long MinMultiplyAdds = 1 << 20;

    public static KernelProgram Run(NetworkGraph graph, KernelProgram program)
    {
        Step[] steps = program.Steps.ToArray();
        for (int i = 0; i < steps.Length; i++)
        {
            Step step = steps[i];
            if (step.IsConversion || step.IsGuarded || program.Placements[program.Root(step.Output)].Buffer != Buffer.Arena) continue;
            bool splits = graph.Layers[step.Layer] switch
            {
                // A residual Add folded in: the workers read the value added, so it must be in the arena too.
                ConvLayer { Images: 1 } conv when step.Kernel is Kernel.ConvTable or Kernel.ConvDepthwise =>
                    MultiplyAdds(conv) >= MinMultiplyAdds && (!step.FusedAdd || program.Placements[program.Root(step.Inputs[1])].Buffer == Buffer.Arena),
                // Token-wise projections split by rows; their input is read in place, so it must be in the arena too.
                DenseLayer dense when step.Kernel == Kernel.DenseRows =>
                    (long)dense.Rows * dense.InputCount * dense.Outputs >= MinMultiplyAdds && program.Placements[program.Root(step.Inputs[0])].Buffer == Buffer.Arena,
                _ => false,
            };
            if (!splits) continue;
            steps[i] = step with { Splits = true };
        }
        return program with { Steps = new EquatableArray<Step>(steps) };
    }

    /// <summary>A convolution's multiply-adds: every output value's window over its group's input channels.</summary>
    public static long MultiplyAdds(ConvLayer c) => (long)c.OutChannels * c.OutD * c.OutH * c.OutW * c.GroupInChannels * c.Window.Size;
}
