using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Model;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Lowering;

/// <summary>
/// A ReLU whose input is computed by a convolution, a dense layer, an element-wise add or a Concat, and read by nothing
/// else, is applied as that step stores its results: one pass over memory instead of two. One pass over the
/// steps, so a network of thousands of layers fuses in linear time.
/// </summary>
internal static class FuseActivations
{
    public static KernelProgram Run(NetworkGraph graph, KernelProgram program)
    {
        Step[] steps = program.Steps.ToArray();
        var producerOf = new Dictionary<int, int>();
        for (int i = 0; i < steps.Length; i++) producerOf[steps[i].Output] = i;
        int[] readers = program.Readers();

        var fused = new bool[steps.Length];
        for (int i = 0; i < steps.Length; i++)
        {
            Step relu = steps[i];
            if (graph.Layers[relu.Layer] is not ReluLayer) continue;
            int input = relu.Inputs[0];
            if (!producerOf.TryGetValue(input, out int p)) continue;
            Step producer = steps[p];
            // A Concat applies it as it copies each part (ShuffleNet's downsampling units end in Concat, ReLU), or hands
            // it to the convolutions that write their parts in place (ConcatInPlace).
            bool fusable = graph.Layers[producer.Layer] is ConvLayer or DenseLayer or BinaryLayer { Kind: BinaryKind.Add } or ConcatLayer && !producer.FusedRelu;
            bool onlyReader = readers[input] == 1;   // the ReLU, and not a graph output
            if (!fusable || !onlyReader) continue;
            steps[p] = producer with { Output = relu.Output, FusedRelu = true };
            producerOf[relu.Output] = p;
            fused[i] = true;
        }
        return program with { Steps = new EquatableArray<Step>(steps.Where((_, i) => !fused[i])) };
    }
}
