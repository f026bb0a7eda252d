using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Emit;
using Qtaml.Generators.Model;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Lowering;

/// <summary>
/// The first form of the program: value 0 is the network's first input, value i + 1 the output of layer i, every
/// layer but a reshape or another graph input one step with the default kernel, every value in the ONNX graph's planes.
/// </summary>
internal static class Lower
{
    public static KernelProgram Network(NetworkGraph graph)
    {
        Layer[] layers = graph.Layers;
        var values = new List<ValueInfo> { ValueInfo.InPlanes(graph.InputShape) };
        var alias = new List<int> { 0 };
        var steps = new List<Step>();
        for (int i = 0; i < layers.Length; i++)
        {
            Layer layer = layers[i];
            values.Add(ValueInfo.InPlanes(layer.OutputShape));
            alias.Add(layer is ReshapeLayer ? layer.Inputs[0] : i + 1);
            if (layer is not (ReshapeLayer or GraphInputLayer))
                steps.Add(new Step(MethodName(layer, i), i, Kernel.Default, new EquatableArray<int>(layer.Inputs), i + 1, FusedRelu: false,
                    layer.Guard?.Value ?? -1, layer.Guard?.When ?? false));
        }
        return new KernelProgram(new EquatableArray<Step>(steps), new EquatableArray<ValueInfo>(values), new EquatableArray<int>(alias),
            new EquatableArray<int>(graph.Inputs.Select(p => p.Value).ToArray()), new EquatableArray<int>(graph.Outputs.Select(p => p.Value).ToArray()),
            EquatableArray<Placement>.Empty, 0);
    }

    /// <summary>The generated method of layer <paramref name="index"/>: its position and its operator.</summary>
    public static string MethodName(Layer layer, int index) => "Layer" + index + "_" + Escape.Identifier(layer.Operator);
}
