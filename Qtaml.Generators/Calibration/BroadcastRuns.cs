using System;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Calibration;

/// <summary>
/// How an element-wise rule's operands are read along its output, in runs rather than one index per element: the
/// output cut into chunks of <see cref="Run"/> values (its last axes), along which every operand either steps by one
/// (<see cref="Steps"/>) or repeats one value (a per-channel scale over an image's positions); each operand's index
/// at the start of each chunk. A recogniser's Adds and Muls read a bias over a row or a scale over a plane: an index
/// map per element made them a third of its forward pass.
/// </summary>
internal sealed class BroadcastRuns
{
    private BroadcastRuns(int run, int chunks, int[][] starts, bool[] steps)
    {
        Run = run;
        Chunks = chunks;
        _starts = starts;
        _steps = steps;
    }

    private readonly int[][] _starts;   // [operand][chunk]
    private readonly bool[] _steps;     // [operand]

    /// <summary>The values of one chunk: the product of the output's last axes along which no operand changes how it is read.</summary>
    public int Run { get; }

    /// <summary>The chunks the output is cut into (its length over <see cref="Run"/>).</summary>
    public int Chunks { get; }

    /// <summary>Where <paramref name="operand"/>'s values for chunk <paramref name="chunk"/> start.</summary>
    public int Start(int operand, int chunk) => _starts[operand][chunk];

    /// <summary>Whether <paramref name="operand"/> steps by one along a chunk (else it repeats its start's value).</summary>
    public bool Steps(int operand) => _steps[operand];

    /// <summary>
    /// The runs of operands of <paramref name="shapes"/> broadcast to <paramref name="output"/> (numpy rules: shapes
    /// aligned at their last axis, an axis of 1 repeated).
    /// </summary>
    public static BroadcastRuns Of(int[][] shapes, int[] output)
    {
        int rank = output.Length;
        var strides = new int[shapes.Length][];
        // An operand as long as the output is read index for index, as the evaluator has always read it.
        for (int k = 0; k < shapes.Length; k++)
            strides[k] = Shape.BroadcastStrides(Shape.Length(shapes[k]) == Shape.Length(output) ? output : shapes[k], output);

        // The first axis of the run: walk back from the last while every operand keeps one way of being read (an axis
        // of 1 changes nothing and is always taken).
        var steps = new bool[shapes.Length];
        var decided = new bool[shapes.Length];
        var expected = new int[shapes.Length];   // the stride a stepping operand has on the next axis in
        for (int k = 0; k < shapes.Length; k++) expected[k] = 1;
        int first = rank;
        for (int d = rank - 1; d >= 0; d--)
        {
            if (output[d] == 1) { first = d; continue; }
            bool fits = true;
            var stepsHere = new bool[shapes.Length];
            for (int k = 0; k < shapes.Length && fits; k++)
            {
                int s = strides[k][d];
                bool stepping = s != 0 && s == expected[k], repeating = s == 0;
                if (!stepping && !repeating) fits = false;
                else if (decided[k] && stepping != steps[k]) fits = false;
                else stepsHere[k] = stepping;
            }
            if (!fits) break;
            for (int k = 0; k < shapes.Length; k++)
            {
                steps[k] = stepsHere[k];
                decided[k] = true;
                if (steps[k]) expected[k] *= output[d];
            }
            first = d;
        }
        for (int k = 0; k < shapes.Length; k++) if (!decided[k]) steps[k] = true;   // a run of one value: either reading is the same

        int run = 1;
        for (int d = first; d < rank; d++) run *= output[d];
        int[] outer = output.AsSpan(0, first).ToArray();
        var starts = new int[shapes.Length][];
        for (int k = 0; k < shapes.Length; k++) starts[k] = ReferenceEvaluator.BroadcastMap(strides[k].AsSpan(0, first).ToArray(), outer);
        return new BroadcastRuns(run, Shape.Length(outer), starts, steps);
    }
}
