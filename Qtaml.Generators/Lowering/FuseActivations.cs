using System.Linq;
using Qtaml.Generators.Model;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Lowering;

/// <summary>
/// A ReLU whose input is computed by a convolution, a dense layer or an element-wise add, and read by nothing
/// else, is applied as that step stores its results: one pass over memory instead of two.
/// </summary>
internal static class FuseActivations
{
    public static KernelProgram Run(NetworkGraph graph, KernelProgram program)
    {
        var steps = program.Steps.ToList();
        for (int i = 0; i < steps.Count; i++)
        {
            Step relu = steps[i];
            if (graph.Layers[relu.Layer] is not ReluLayer) continue;
            int input = relu.Inputs[0];
            int producerIndex = steps.FindIndex(s => s.Output == input);
            if (producerIndex < 0) continue;
            Step producer = steps[producerIndex];
            bool fusable = graph.Layers[producer.Layer] is ConvLayer or DenseLayer or BinaryLayer { Kind: BinaryKind.Add } && !producer.FusedRelu;
            bool onlyReader = input != program.OutputValue
                && steps.Count(s => s.Inputs.Contains(input)) == 1
                && Enumerable.Range(0, program.Alias.Count).All(v => v == input || program.Alias[v] != input);
            if (!fusable || !onlyReader) continue;
            steps[producerIndex] = producer with { Output = relu.Output, FusedRelu = true };
            steps.RemoveAt(i);
            i--;
        }
        return program with { Steps = new EquatableArray<Step>(steps) };
    }
}
