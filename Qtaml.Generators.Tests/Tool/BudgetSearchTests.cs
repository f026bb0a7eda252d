using Qtaml.Physics;
using Qtaml.Plans;
using Qtaml.Sample.Models;
using Qtaml.Tac;

namespace Qtaml.Generators.Tests.Tool;

/// <summary>
/// The bisection a campaign finds minimum budgets with, against the brute-force scan of every grid point: equal on
/// every monotone condition, with log2 of the grid's evaluations.
/// </summary>
public class BudgetSearchTests
{
    private static double? BruteForce(Func<double, bool> holds, double maximum, int stepsPerBit)
    {
        for (int k = 0; k <= maximum * stepsPerBit; k++)
            if (holds((double)k / stepsPerBit)) return (double)k / stepsPerBit;
        return null;
    }

    [Fact]
    public void Bisection_finds_the_first_grid_budget_of_any_threshold_with_log2_of_the_evaluations()
    {
        var random = new Random(41);
        for (int i = 0; i < 500; i++)
        {
            double threshold = random.NextDouble() * 9 - 0.5;   // some below 0 (always holds), some above 8 (never)
            int evaluations = 0;
            bool Holds(double b)
            {
                evaluations++;
                return b >= threshold;
            }
            Assert.Equal(BruteForce(b => b >= threshold, 8, 64), BudgetSearch.Minimum(Holds, 8, 64));
            Assert.True(evaluations <= 11, $"{evaluations} evaluations for a grid of 513 points");
        }
    }

    [Theory]
    [InlineData(Allocator.Tac)]
    [InlineData(Allocator.UniformMsp)]
    [InlineData(Allocator.MagnitudeBased)]
    public void On_a_real_model_bisection_and_the_full_grid_agree_on_the_budget_each_allocator_needs(Allocator allocator)
    {
        // The predicted distortion of each allocator's plan never grows with the budget: a monotone condition on the
        // compiled CNN's quantized model, for targets across the range of the plans.
        QuantizedModel model = Digits.Quantized;
        FlipProbabilities flips = FlipProbabilities.Symmetric(0.10);
        ProtectionProblem problem = model.Problem(flips);
        double none = problem.Allocate(Allocator.None, 0).PredictedDistortion;
        foreach (double fraction in new[] { 0.5, 0.1, 0.01, 1e-3, 1e-4, 0 })
        {
            double target = none * fraction;
            bool Holds(double b) => model.Design(allocator, b, flips).PredictedDistortion <= target;
            double? bisected = BudgetSearch.Minimum(Holds, model.Bits, 64);
            Assert.Equal(BruteForce(Holds, model.Bits, 64), bisected);
            Assert.NotNull(bisected);   // everything protected predicts no distortion at all
        }
    }

    [Fact]
    public void A_condition_false_at_full_protection_has_no_budget_and_one_true_at_zero_needs_none()
    {
        Assert.Null(BudgetSearch.Minimum(_ => false, 8));
        Assert.Equal(0, BudgetSearch.Minimum(_ => true, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => BudgetSearch.Minimum(_ => true, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => BudgetSearch.Minimum(_ => true, 8, 0));
    }
}
