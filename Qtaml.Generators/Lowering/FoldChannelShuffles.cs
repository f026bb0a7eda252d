using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Model;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Lowering;

/// <summary>
/// A channel shuffle (a Transpose that regroups each position's channels, <see cref="AssignLayouts.ShufflesChannels"/>)
/// read only by a depthwise convolution is no step of its own: the convolution stages its input anyway (into its zero
/// border, channels-last), and stages it shuffled (<see cref="Step.InputShuffle"/>), so the shuffled value is never
/// stored. ShuffleNet's units end so, each shuffle a pass over a 0.4 MB value: 15% of its time on one thread, with the
/// staging copy the convolution made after it besides.
/// </summary>
/// <remarks>
/// Runs after <see cref="AssignLayouts"/> (the shuffle must be on channels-last values, as the convolution reads them)
/// and before <see cref="PlanMemory"/> (the shuffled value is then never placed). The shuffle's value and the reshapes
/// of it must be read by the convolution alone, one image, not a graph output, and neither step in an If's branch.
/// </remarks>
internal static class FoldChannelShuffles
{
    public static KernelProgram Run(NetworkGraph graph, KernelProgram program)
    {
        Step[] steps = program.Steps.ToArray();
        var producerOf = new Dictionary<int, int>();
        for (int i = 0; i < steps.Length; i++) producerOf[program.Root(steps[i].Output)] = i;
        // A graph output counts as a reader, so a shuffled value that is one has a second reader and stays.
        int[] readers = program.Readers();
        var folded = new bool[steps.Length];
        for (int i = 0; i < steps.Length; i++)
        {
            Step conv = steps[i];
            if (conv.Kernel != Kernel.ConvDepthwise || conv.IsGuarded) continue;
            int read = conv.Inputs[0], shuffled = program.Root(read);
            if (!producerOf.TryGetValue(shuffled, out int s)) continue;
            Step shuffle = steps[s];
            if (shuffle.IsConversion || shuffle.IsGuarded || shuffle.Kernel != Kernel.Default || graph.Layers[shuffle.Layer] is not TransposeLayer transpose) continue;
            ValueInfo source = program.Values[program.Root(shuffle.Inputs[0])];
            if (source.Layout != Layout.ChannelsLast || source.IsView || source.Images != 1 || program.Values[shuffled].Layout != Layout.ChannelsLast
                || !AssignLayouts.ShufflesChannels(transpose, source.Shape.ToArray()) || !ReadOnlyBy(program, readers, read, shuffled))
                continue;
            steps[i] = conv with { Inputs = new EquatableArray<int>(conv.Inputs.Select((v, n) => n == 0 ? shuffle.Inputs[0] : v).ToArray()), InputShuffle = transpose.InputShape[1] };
            folded[s] = true;
        }
        return folded.Any(f => f) ? program with { Steps = new EquatableArray<Step>(steps.Where((_, i) => !folded[i])) } : program;
    }

    /// <summary>
    /// Whether every value from <paramref name="shuffled"/> to <paramref name="read"/> along the reshapes between
    /// them has one reader (the next reshape, and at the end the convolution), so nothing else sees the shuffled value.
    /// </summary>
    private static bool ReadOnlyBy(KernelProgram program, int[] readers, int read, int shuffled)
    {
        for (int v = read; ; v = program.Alias[v])
        {
            if (readers[v] != 1) return false;
            if (v == shuffled) return true;
        }
    }
}
