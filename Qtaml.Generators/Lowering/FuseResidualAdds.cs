using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Model;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Lowering;

/// <summary>
/// A residual Add (a ReLU after it included) whose one operand is a table convolution's output, read by nothing
/// else, and whose other operand is already computed when the convolution runs, is done by the convolution as it
/// stores its results: it reads the other operand's value beside each result it writes. ResNet-50 ends each of its
/// 16 blocks so (as ONNX Runtime's fused convolution does); the Add was a pass over three buffers of up to 3.2 MB
/// each, 4% of the network's time. The values added are the ones the Add would have read, in the same floats, so
/// the results are the same bits (addition of two floats is commutative).
/// </summary>
/// <remarks>
/// Runs after <see cref="AssignLayouts"/>: the three values must be stored alike (channels-last with the same slots),
/// so that one index reads the residual where the result is stored. One pass over the steps.
/// </remarks>
internal static class FuseResidualAdds
{
    public static KernelProgram Run(NetworkGraph graph, KernelProgram program)
    {
        Step[] steps = program.Steps.ToArray();
        var producerOf = new Dictionary<int, int>();
        for (int i = 0; i < steps.Length; i++) producerOf[steps[i].Output] = i;
        int[] readers = program.Readers();
        var outside = new HashSet<int>(program.InputValues.Concat(program.OutputValues).Select(program.Root));

        var removed = new bool[steps.Length];
        for (int i = 0; i < steps.Length; i++)
        {
            Step add = steps[i];
            if (!IsResidualAdd(graph, program, add)) continue;
            // The operand a convolution computes, and of two such the later: the other must exist when it runs.
            int best = -1, other = -1;
            for (int j = 0; j < 2; j++)
            {
                int operand = add.Inputs[j], residual = add.Inputs[1 - j];
                if (!producerOf.TryGetValue(operand, out int p) || readers[operand] != 1 || !Folds(graph, steps[p])) continue;
                // The residual must be written before the convolution runs, and live in the arena, where a worker
                // thread of a split convolution can read it (not a graph input or an output span).
                int root = program.Root(residual);
                if (outside.Contains(root) || !producerOf.TryGetValue(root, out int r) || r >= p) continue;
                if (!SameForm(program, operand, add.Output) || !SameForm(program, root, add.Output)) continue;
                if (p > best) (best, other) = (p, residual);
            }
            if (best < 0) continue;
            Step conv = steps[best];
            steps[best] = conv with
            {
                Inputs = new EquatableArray<int>(new[] { conv.Inputs[0], other }),
                Output = add.Output,
                FusedRelu = add.FusedRelu,
                FusedAdd = true,
            };
            producerOf[add.Output] = best;
            removed[i] = true;
        }
        return program with { Steps = new EquatableArray<Step>(steps.Where((_, i) => !removed[i])) };
    }

    /// <summary>An unguarded Add of two whole values of its own shape (no constant, no broadcast).</summary>
    private static bool IsResidualAdd(NetworkGraph graph, KernelProgram program, Step step) =>
        !step.IsGuarded && !step.IsConversion && step.Chain.Count == 0 && step.Inputs.Count == 2 && step.Inputs[0] != step.Inputs[1]
        && graph.Layers[step.Layer] is BinaryLayer { Kind: BinaryKind.Add } b
        && !b.Left.IsConstant && !b.Right.IsConstant
        && Shape.Length(b.Left.Shape) == Shape.Length(b.OutputShape) && Shape.Length(b.Right.Shape) == Shape.Length(b.OutputShape);

    /// <summary>
    /// A table convolution of one image that stores every slot of its output (one group, or groups that fill the
    /// slots), with no ReLU or Add of its own to come before the Add's.
    /// </summary>
    private static bool Folds(NetworkGraph graph, Step step) =>
        step.Kernel == Kernel.ConvTable && !step.IsGuarded && !step.FusedRelu && !step.FusedAdd && step.Inputs.Count == 1
        && graph.Layers[step.Layer] is ConvLayer { Images: 1 } c && (c.Groups == 1 || AssignLayouts.Slots(c.OutChannels) == c.OutChannels);

    /// <summary>Whether a value is stored as the Add's output is: channels-last, the same slots and length.</summary>
    private static bool SameForm(KernelProgram program, int value, int output)
    {
        ValueInfo a = program.Values[value], b = program.Values[output];
        return a.Layout == Layout.ChannelsLast && b.Layout == Layout.ChannelsLast && a.ChannelSlots == b.ChannelSlots && a.StoredLength == b.StoredLength;
    }
}
