using System;

namespace Qtaml.Plans;

/// <summary>
/// The smallest budget on a grid of 1/<c>stepsPerBit</c> bits per weight at which a condition holds, by bisection:
/// log2(grid points) evaluations instead of one per point. The condition is assumed monotone in the budget (more ECC
/// never hurts; TAC's plans are nested, and a measured condition with common random numbers across budgets is close to
/// it); where it is not, bisection returns a budget at which it holds whose grid predecessor it does not.
/// </summary>
public static class BudgetSearch
{
    /// <summary>The grid budgets are k / this, bits per weight.</summary>
    public const int DefaultStepsPerBit = 64;

    /// <summary>The smallest k/<paramref name="stepsPerBit"/> in [0, <paramref name="maximum"/>] at which <paramref name="holds"/> is true, or null if it is false at the maximum.</summary>
    /// <param name="holds">The condition at a budget (bits per weight).</param>
    /// <param name="maximum">The largest budget to consider (a model's bit width: everything protected).</param>
    /// <param name="stepsPerBit">Grid points per bit of budget.</param>
    public static double? Minimum(Func<double, bool> holds, double maximum, int stepsPerBit = DefaultStepsPerBit)
    {
        if (holds is null) throw new ArgumentNullException(nameof(holds));
        if (!(maximum >= 0) || double.IsInfinity(maximum)) throw new ArgumentOutOfRangeException(nameof(maximum), maximum, "The largest budget must be finite and not negative.");
        if (stepsPerBit < 1) throw new ArgumentOutOfRangeException(nameof(stepsPerBit), stepsPerBit, "Use at least one grid point per bit.");
        long high = (long)Math.Floor(maximum * stepsPerBit + 1e-9);
        double Budget(long k) => (double)k / stepsPerBit;
        if (!holds(Budget(high))) return null;
        if (holds(0)) return 0;
        long low = 0;   // invariant: false at low, true at high
        while (high - low > 1)
        {
            long middle = low + (high - low) / 2;
            if (holds(Budget(middle))) high = middle;
            else low = middle;
        }
        return Budget(high);
    }
}
