using Qtaml.Moments;
using Qtaml.Physics;
using Qtaml.Tac;

namespace Qtaml.Generators.Tests.Runtime;

/// <summary>
/// The convex-hull allocation TAC falls back to on networks too large for the exact frontier: optimal at every
/// hull vertex (the Lagrangian theorem), never better than the exact optimum, and linear in the layer count.
/// </summary>
public class TacHullTests
{
    private static ProtectionProblem Problem(int seed, int layerCount, int bits = 8)
    {
        var random = new Random(seed);
        var flips = new FlipProbabilities(0.05 + random.NextDouble() * 0.1, random.NextDouble() * 0.02);
        var layers = new List<LayerProfile>();
        for (int l = 0; l < layerCount; l++)
        {
            int[] codes = Enumerable.Range(0, random.Next(8, 200)).Select(_ => random.Next(StoredCode.MinCode(bits), StoredCode.MaxCode(bits) + 1)).ToArray();
            layers.Add(LayerProfile.FromCodes($"l{l}", codes, 0.001 + random.NextDouble(), 0.01 + random.NextDouble() * 10, bits, flips));
        }
        return new ProtectionProblem(bits, layers);
    }

    [Theory]
    [InlineData(1, 6)]
    [InlineData(2, 20)]
    [InlineData(3, 40)]
    public void Hull_plans_are_exactly_optimal_at_their_own_cost_and_never_beat_the_exact_optimum(int seed, int layers)
    {
        ProtectionProblem problem = Problem(seed, layers);
        Assert.True(problem.IsTacExact);
        TacFrontier hull = TacFrontier.BuildHull(problem);
        Assert.False(hull.IsExact);
        foreach (ProtectionPlan vertex in hull.Plans)
        {
            // At a vertex's own cost the exact optimum is the vertex's distortion (a Lagrangian minimizer is optimal for its cost).
            ProtectionPlan exact = problem.Allocate(Allocator.Tac, (double)vertex.ProtectedBits / problem.TotalWeights);
            Assert.Equal(exact.PredictedDistortion, vertex.PredictedDistortion, 1e-9 * Math.Max(1, exact.PredictedDistortion));
            Assert.Equal(problem.PredictedDistortion(vertex.ProtectedPlanes), vertex.PredictedDistortion, 1e-9 * Math.Max(1, vertex.PredictedDistortion));
        }
        long total = problem.TotalWeights * problem.Bits;
        for (int i = 0; i <= 40; i++)
        {
            long budget = total * i / 40;
            ProtectionPlan fromHull = hull.Cheapest(budget), exact = problem.Allocate(Allocator.Tac, (double)budget / problem.TotalWeights);
            Assert.True(fromHull.ProtectedBits <= budget, $"hull plan spends {fromHull.ProtectedBits} of {budget}");
            Assert.True(fromHull.PredictedDistortion >= exact.PredictedDistortion - 1e-9 * Math.Max(1, exact.PredictedDistortion));
            // And it is never worse than protecting the same top planes everywhere.
            ProtectionPlan uniform = problem.Allocate(Allocator.UniformMsp, (double)budget / problem.TotalWeights);
            Assert.True(fromHull.PredictedDistortion <= uniform.PredictedDistortion * (1 + 1e-9), $"budget {budget}: hull {fromHull.PredictedDistortion}, Uniform-MSP {uniform.PredictedDistortion}");
        }
    }

    [Fact]
    public void A_network_of_4000_layers_is_allocated_on_the_hull_quickly()
    {
        ProtectionProblem problem = Problem(7, 4000);
        ProtectionPlan plan = problem.Allocate(Allocator.Tac, 1.0);
        Assert.False(problem.IsTacExact);
        Assert.True(plan.ProtectedBits <= problem.TotalWeights);
        Assert.True(problem.MinimumBudget(Allocator.Tac, problem.NoiseFloor) <= problem.Bits);
    }
}
