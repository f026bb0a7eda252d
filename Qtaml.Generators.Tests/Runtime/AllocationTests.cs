using Qtaml.Moments;
using Qtaml.Physics;
using Qtaml.Tac;

namespace Qtaml.Generators.Tests.Runtime;

/// <summary>DESIGN 3.5.2–3.5.4: the bit-budget allocators, the noise floor and ρ*.</summary>
public class AllocationTests
{
    private static ProtectionProblem RandomProblem(Random random, int maxLayers = 4, int maxBits = 8)
    {
        int bits = random.Next(2, maxBits + 1), layerCount = random.Next(1, maxLayers + 1);
        var flips = new FlipProbabilities(random.NextDouble() * 0.2, random.NextDouble() * 0.1);
        var layers = new List<LayerProfile>();
        for (int l = 0; l < layerCount; l++)
        {
            int[] codes = Enumerable.Range(0, random.Next(1, 60)).Select(_ => random.Next(StoredCode.MinCode(bits), StoredCode.MaxCode(bits) + 1)).ToArray();
            layers.Add(LayerProfile.FromCodes($"l{l}", codes, 0.001 + random.NextDouble(), random.NextDouble() * 10, bits, flips));
        }
        return new ProtectionProblem(bits, layers);
    }

    /// <summary>Every plan, by enumeration: the reference the exact allocator must match.</summary>
    private static IEnumerable<int[]> AllPlans(int layers, int bits)
    {
        var plan = new int[layers];
        while (true)
        {
            yield return (int[])plan.Clone();
            int l = 0;
            while (l < layers && plan[l] == bits) plan[l++] = 0;
            if (l == layers) yield break;
            plan[l]++;
        }
    }

    [Fact]
    public void Tac_plan_equals_the_brute_force_optimum_on_200_random_problems()
    {
        var random = new Random(2026);
        for (int problemIndex = 0; problemIndex < 200; problemIndex++)
        {
            ProtectionProblem problem = RandomProblem(random);
            double budget = random.NextDouble() * problem.Bits;
            long maxBits = (long)Math.Floor(budget * problem.TotalWeights + 1e-6);

            double best = double.PositiveInfinity;
            foreach (int[] plan in AllPlans(problem.Layers.Count, problem.Bits))
                if (problem.ProtectedBits(plan) <= maxBits) best = Math.Min(best, problem.PredictedDistortion(plan));

            ProtectionPlan tac = problem.Allocate(Allocator.Tac, budget);
            Assert.True(tac.ProtectedBits <= maxBits, $"problem {problemIndex}: TAC overspent");
            Assert.True(Math.Abs(tac.PredictedDistortion - best) <= 1e-12 * Math.Max(1, best),
                $"problem {problemIndex}: TAC {tac.PredictedDistortion}, brute force {best}");
            Assert.Equal(problem.PredictedDistortion(tac.ProtectedPlanes), tac.PredictedDistortion, 12);
        }
    }

    [Fact]
    public void Tac_minimum_budget_to_reach_a_distortion_equals_the_brute_force_minimum()
    {
        var random = new Random(7);
        for (int problemIndex = 0; problemIndex < 200; problemIndex++)
        {
            ProtectionProblem problem = RandomProblem(random);
            double target = problem.PredictedDistortion(new int[problem.Layers.Count]) * random.NextDouble();
            long cheapest = AllPlans(problem.Layers.Count, problem.Bits)
                .Where(plan => problem.PredictedDistortion(plan) <= target)
                .Min(plan => problem.ProtectedBits(plan));
            Assert.Equal((double)cheapest / problem.TotalWeights, problem.MinimumBudget(Allocator.Tac, target), 12);
        }
    }

    [Fact]
    public void Tac_never_predicts_more_distortion_than_Uniform_MSP_or_magnitude_at_equal_cost()
    {
        var random = new Random(99);
        for (int problemIndex = 0; problemIndex < 200; problemIndex++)
        {
            ProtectionProblem problem = RandomProblem(random);
            foreach (Allocator baseline in new[] { Allocator.UniformMsp, Allocator.MagnitudeBased, Allocator.None })
            {
                ProtectionPlan reference = problem.Allocate(baseline, random.NextDouble() * problem.Bits);
                ProtectionPlan tac = problem.Allocate(Allocator.Tac, reference.BitsPerWeight);
                Assert.True(tac.PredictedDistortion <= reference.PredictedDistortion * (1 + 1e-12),
                    $"problem {problemIndex}: TAC {tac.PredictedDistortion} above {baseline} {reference.PredictedDistortion} at {reference.BitsPerWeight} bits/weight");
            }
        }
    }

    [Fact]
    public void Baselines_follow_their_rules()
    {
        // Three layers; the middle one has the largest scale, the last one the largest sensitivity.
        var flips = FlipProbabilities.Symmetric(0.1);
        var profiles = new[]
        {
            LayerProfile.FromCodes("a", new int[100], 0.01, 1, 8, flips),
            LayerProfile.FromCodes("b", new int[100], 0.05, 1, 8, flips),
            LayerProfile.FromCodes("c", new int[200], 0.02, 50, 8, flips),
        };
        var problem = new ProtectionProblem(8, profiles);

        Assert.Equal(new[] { 1, 1, 1 }, problem.Allocate(Allocator.UniformMsp, 1.7).ProtectedPlanes);
        Assert.Equal(new[] { 0, 0, 0 }, problem.Allocate(Allocator.None, 8).ProtectedPlanes);
        // Magnitude: the MSB of b first (largest scale), then of c, then of a; with 0.75 bits/weight (300 bits) only b and c fit.
        Assert.Equal(new[] { 0, 1, 1 }, problem.Allocate(Allocator.MagnitudeBased, 0.75).ProtectedPlanes);
        Assert.Equal(new[] { 1, 1, 1 }, problem.Allocate(Allocator.MagnitudeBased, 1.0).ProtectedPlanes);
        // TAC puts the budget where G·n·s² is largest: layer c.
        ProtectionPlan tac = problem.Allocate(Allocator.Tac, 1.0);
        Assert.True(tac.ProtectedPlanes[2] >= 2, tac.ToString());
        Assert.Equal(300 + 0.0, problem.Allocate(Allocator.MagnitudeBased, 0.75).ProtectedBits);
    }

    [Fact]
    public void Magnitude_based_minimum_budget_is_the_cheapest_of_its_plans_that_reaches_the_target()
    {
        // Against a scan of the plans the magnitude rule makes at every affordable budget (its prefixes), on problems
        // large enough that scale ties and partial plane levels occur.
        var random = new Random(77);
        for (int problemIndex = 0; problemIndex < 15; problemIndex++)
        {
            ProtectionProblem problem = RandomProblem(random, maxLayers: 25);
            long[] costs = Enumerable.Range(0, (int)(problem.Bits * problem.TotalWeights) + 1).Select(c => (long)c).ToArray();
            double noPlan = problem.PredictedDistortion(new int[problem.Layers.Count]);
            foreach (double target in new[] { noPlan * 1.01, noPlan * 0.9, noPlan * 0.5, noPlan * 0.1, problem.NoiseFloor, 0 })
            {
                double expected = double.PositiveInfinity;
                foreach (long cost in costs)
                {
                    ProtectionPlan plan = problem.Allocate(Allocator.MagnitudeBased, (double)cost / problem.TotalWeights);
                    if (plan.PredictedDistortion <= target) { expected = (double)plan.ProtectedBits / problem.TotalWeights; break; }
                }
                Assert.Equal(expected, problem.MinimumBudget(Allocator.MagnitudeBased, target));
            }
        }
    }

    [Fact]
    public void Noise_floor_and_rho_star_follow_their_definitions()
    {
        var flips = FlipProbabilities.Symmetric(0.1);
        var random = new Random(3);
        var profiles = Enumerable.Range(0, 5).Select(l => LayerProfile.FromCodes($"l{l}",
            Enumerable.Range(0, 100 * (l + 1)).Select(_ => random.Next(-128, 128)).ToArray(), 0.01 * (l + 1), Math.Pow(4, l), 8, flips)).ToArray();
        var problem = new ProtectionProblem(8, profiles);

        double floor = profiles.Sum(p => p.Sensitivity * p.WeightCount * p.Scale * p.Scale / 12);
        Assert.Equal(floor, problem.NoiseFloor, 12);

        SaturationReport report = problem.Saturation();
        Assert.Equal(problem.MinimumBudget(Allocator.Tac, floor), report.TacBudget);
        Assert.Equal(problem.MinimumBudget(Allocator.UniformMsp, floor), report.UniformMspBudget);
        Assert.Equal(report.UniformMspBudget / report.TacBudget, report.Rho, 12);
        Assert.True(report.Rho >= 1, report.ToString());
        // The budgets really reach the floor, and one protected bit less (for Uniform-MSP one plane less) does not.
        Assert.True(problem.Allocate(Allocator.Tac, report.TacBudget).PredictedDistortion <= floor);
        Assert.True(problem.Allocate(Allocator.UniformMsp, report.UniformMspBudget).PredictedDistortion <= floor);
        Assert.True(problem.Allocate(Allocator.UniformMsp, report.UniformMspBudget - 1).PredictedDistortion > floor);
        Assert.True(problem.Allocate(Allocator.Tac, report.TacBudget - 1.0 / problem.TotalWeights).PredictedDistortion > floor);
    }

    [Fact]
    public void Out_of_range_budgets_are_rejected_with_the_valid_range()
    {
        var problem = new ProtectionProblem(8, new[] { LayerProfile.FromCodes("a", new int[10], 0.01, 1, 8, FlipProbabilities.Symmetric(0.1)) });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => problem.Allocate(Allocator.Tac, 8.5));
        Assert.Contains("between 0 and 8", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => problem.Allocate(Allocator.Tac, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => problem.Allocate(Allocator.Tac, double.NaN));
    }
}
