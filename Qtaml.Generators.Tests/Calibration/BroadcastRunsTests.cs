extern alias gen;
using BroadcastRuns = gen::Qtaml.Generators.Calibration.BroadcastRuns;
using ReferenceEvaluator = gen::Qtaml.Generators.Calibration.ReferenceEvaluator;
using Shape = gen::Qtaml.Generators.Network.Shape;

namespace Qtaml.Generators.Tests.Calibration;

/// <summary>
/// The reference evaluator reads an element-wise rule's operands in runs (<see cref="BroadcastRuns"/>): each operand
/// either steps along a chunk of the output or repeats one value. That reading must name, for every output index,
/// the same operand index the numpy broadcast does (the per-element index map it replaced), and the runs must be as
/// long as the shapes allow: a per-channel scale over an image is one run per plane, a bias over rows one per row.
/// </summary>
public class BroadcastRunsTests
{
    /// <summary>Each operand's index at every output index, read from the runs.</summary>
    private static int[] Indices(BroadcastRuns runs, int operand)
    {
        var indices = new int[runs.Chunks * runs.Run];
        for (int chunk = 0; chunk < runs.Chunks; chunk++)
            for (int j = 0; j < runs.Run; j++)
                indices[chunk * runs.Run + j] = runs.Start(operand, chunk) + (runs.Steps(operand) ? j : 0);
        return indices;
    }

    /// <summary>The numpy broadcast's index for every output index, one at a time (an operand as long as the output is read index for index).</summary>
    private static int[] Expected(int[] shape, int[] output) =>
        Shape.Length(shape) == Shape.Length(output)
            ? Enumerable.Range(0, Shape.Length(output)).ToArray()
            : ReferenceEvaluator.BroadcastMap(Shape.BroadcastStrides(shape, output), output);

    [Theory]
    [InlineData(new[] { 1, 240, 12, 80 }, new[] { 1, 240, 12, 80 }, 230400, 1, true, true)]   // same shape: one run
    [InlineData(new[] { 1, 240, 12, 80 }, new int[0], 230400, 1, true, false)]               // a scalar repeats
    [InlineData(new[] { 1, 64, 24, 160 }, new[] { 1, 64, 1, 1 }, 3840, 64, true, false)]      // a channel's scale over its plane
    [InlineData(new[] { 40, 120 }, new[] { 120 }, 120, 40, true, true)]                       // a bias over rows
    [InlineData(new[] { 6, 1 }, new[] { 1, 5 }, 5, 6, false, true)]                           // an outer product: a row at a time
    public void Runs_are_as_long_as_the_shapes_allow(int[] left, int[] right, int run, int chunks, bool leftSteps, bool rightSteps)
    {
        int[] output = Enumerable.Range(0, Math.Max(left.Length, right.Length)).Select(d =>
        {
            int l = d - (Math.Max(left.Length, right.Length) - left.Length), r = d - (Math.Max(left.Length, right.Length) - right.Length);
            return Math.Max(l >= 0 ? left[l] : 1, r >= 0 ? right[r] : 1);
        }).ToArray();
        BroadcastRuns runs = BroadcastRuns.Of(new[] { left, right }, output);
        Assert.Equal((run, chunks, leftSteps, rightSteps), (runs.Run, runs.Chunks, runs.Steps(0), runs.Steps(1)));
        Assert.Equal(Expected(left, output), Indices(runs, 0));
        Assert.Equal(Expected(right, output), Indices(runs, 1));
    }

    [Fact]
    public void Every_operand_reads_the_index_the_broadcast_names_on_random_shapes()
    {
        // 2,000 seeded output shapes of rank 0-5 (axes of 1-4), each operand keeping or dropping leading axes and
        // setting any axis to 1: every way of broadcasting, including axes of 1 in the output and three operands.
        var random = new Random(26);
        for (int trial = 0; trial < 2000; trial++)
        {
            int rank = random.Next(0, 6);
            int[] output = Enumerable.Range(0, rank).Select(_ => random.Next(1, 5)).ToArray();
            int[][] shapes = Enumerable.Range(0, random.Next(1, 4)).Select(_ =>
            {
                int kept = random.Next(0, rank + 1);
                return output.Skip(rank - kept).Select(d => random.Next(3) == 0 ? 1 : d).ToArray();
            }).ToArray();
            BroadcastRuns runs = BroadcastRuns.Of(shapes, output);
            Assert.Equal(Shape.Length(output), runs.Run * runs.Chunks);
            for (int k = 0; k < shapes.Length; k++)
                Assert.True(Expected(shapes[k], output).SequenceEqual(Indices(runs, k)),
                    $"output [{string.Join(",", output)}], operand [{string.Join(",", shapes[k])}]");
        }
    }
}
