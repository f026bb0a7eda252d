using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Model;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Lowering;

/// <summary>
/// A Concat of channels-last images along the channels whose every part is a table convolution's output, read by
/// nothing else, is no step: each convolution stores its channels straight into its slice of the Concat's value,
/// its positions the Concat's channel slots apart, so nothing is copied. SqueezeNet's eight Fire modules and
/// Inception's branches end so; their copies were 6% of SqueezeNet's time on one thread, and a copy runs on one
/// thread where the convolutions split. The parts become views of the Concat's value (<see cref="ValueInfo.Within"/>),
/// which <see cref="PlanMemory"/> places inside it; the floats stored are the ones the copy would have stored.
/// </summary>
/// <remarks>
/// Runs after the fusions (a ReLU after the Concat, fused into it, moves to the convolutions) and before <see cref="PlanMemory"/>. A part
/// must be whole vectors of 8 channels with no padding slots (its stores then never reach its neighbour's channels),
/// one image, not a graph input or output, and not add a residual (that would read the residual with the Concat's
/// stride).
/// </remarks>
internal static class ConcatInPlace
{
    public static KernelProgram Run(NetworkGraph graph, KernelProgram program)
    {
        var producers = new Dictionary<int, Step>();
        foreach (Step step in program.Steps) producers[step.Output] = step;
        int[] readers = program.Readers();
        var outside = new HashSet<int>(program.InputValues.Concat(program.OutputValues).Select(program.Root));
        ValueInfo[] values = program.Values.ToArray();
        var removed = new HashSet<Step>();
        var relu = new HashSet<Step>();
        foreach (Step concat in program.Steps)
        {
            if (!Joins(graph, program, concat, values) || outside.Contains(concat.Output)) continue;
            ValueInfo whole = values[concat.Output];
            bool parts = concat.Inputs.Distinct().Count() == concat.Inputs.Count && concat.Inputs.All(v =>
                program.Root(v) == v && readers[v] == 1 && !outside.Contains(v) && !values[v].IsView
                && producers.TryGetValue(v, out Step? producer) && producer.Kernel == Kernel.ConvTable && !producer.FusedAdd && !producer.IsGuarded
                && values[v].Layout == Layout.ChannelsLast && values[v].Images == 1
                && values[v].Channels % AssignLayouts.SlotMultiple == 0 && values[v].ChannelSlots == values[v].Channels);
            if (!parts) continue;
            int offset = 0;
            foreach (int part in concat.Inputs)
            {
                values[part] = values[part] with { ChannelSlots = whole.ChannelSlots, Within = concat.Output, ChannelOffset = offset };
                offset += values[part].Channels;
            }
            removed.Add(concat);
            // A ReLU after the Concat (fused into it) is each part's ReLU: the convolutions apply it as they store.
            if (concat.FusedRelu)
                foreach (int part in concat.Inputs) relu.Add(producers[part]);
        }
        if (removed.Count == 0) return program;
        return program with
        {
            Steps = new EquatableArray<Step>(program.Steps.Where(s => !removed.Contains(s)).Select(s => relu.Contains(s) ? s with { FusedRelu = true } : s).ToArray()),
            Values = new EquatableArray<ValueInfo>(values),
        };
    }

    /// <summary>A Concat step along the channels of one channels-last image, every part a value of the graph.</summary>
    private static bool Joins(NetworkGraph graph, KernelProgram program, Step step, ValueInfo[] values) =>
        !step.IsConversion && !step.IsGuarded && step.Chain.Count == 0 && step.Layer >= 0
        && graph.Layers[step.Layer] is ConcatLayer concat && concat.Axis == 1 && concat.Parts.All(p => !p.IsConstant)
        && program.Root(step.Output) == step.Output && values[step.Output].Layout == Layout.ChannelsLast && values[step.Output].Images == 1
        && step.Inputs.Count == concat.Parts.Length;
}
