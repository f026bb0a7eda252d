using Qtaml.Generators.Network;

namespace Qtaml.Generators.Calibration;

/// <summary>
/// Where a network's decisions are read: one value (the first output, or the input of the final softmax that
/// produces it, which has the same arg max) cut into <see cref="Positions"/> runs of <see cref="Classes"/> scores,
/// one decision each. A classifier makes one decision (one position, the whole value); a network whose final softmax
/// runs over the last axis of several rows makes one per row, as its users read it: a CTC text recogniser's
/// [1, T, classes] output is T characters decoded greedily, and one arg max over all T·classes scores (265k for
/// PP-OCRv4's) is a decision no application makes.
/// </summary>
/// <param name="Value">The value index decisions are read from.</param>
/// <param name="Positions">The decisions per input.</param>
/// <param name="Classes">The scores each decision chooses among (consecutive in the value).</param>
internal readonly record struct DecisionLayout(int Value, int Positions, int Classes)
{
    /// <summary>The value's length: every position's scores.</summary>
    public int Length => Positions * Classes;

    /// <summary>The decisions of a network: per row of its final softmax, else one over its first output.</summary>
    public static DecisionLayout Of(NetworkGraph graph)
    {
        int output = graph.OutputValue;
        if (output > 0 && graph.Layers[output - 1] is SoftmaxLayer softmax)
            return new DecisionLayout(softmax.Inputs[0], softmax.Rows, softmax.Length);
        return new DecisionLayout(output, 1, Shape.Length(graph.ValueShape(output)));
    }

    /// <summary>The decision at <paramref name="position"/>: the index (within the position's classes) of its largest score, the first on ties.</summary>
    public int ArgMax(double[] values, int position)
    {
        int start = position * Classes, best = 0;
        for (int i = 1; i < Classes; i++)
            if (values[start + i] > values[start + best]) best = i;
        return best;
    }
}
