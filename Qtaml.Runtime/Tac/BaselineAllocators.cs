using System;
using System.Collections.Generic;
using System.Linq;

namespace Qtaml.Tac;

/// <summary>
/// The allocators TAC is measured against (DESIGN 3.5.3).
/// </summary>
internal static class BaselineAllocators
{
    /// <summary>Uniform-MSP: the same m in every layer, as many planes as the budget pays for everywhere.</summary>
    public static int[] UniformMsp(ProtectionProblem problem, long maxProtectedBits)
    {
        int m = (int)Math.Min(problem.Bits, maxProtectedBits / problem.TotalWeights);
        return Enumerable.Repeat(m, problem.Layers.Count).ToArray();
    }

    /// <summary>The smallest uniform m whose plan predicts at most <paramref name="target"/>, in bits per weight.</summary>
    public static double UniformMspMinimum(ProtectionProblem problem, double target)
    {
        for (int m = 0; m <= problem.Bits; m++)
            if (problem.PredictedDistortion(Enumerable.Repeat(m, problem.Layers.Count).ToArray()) <= target) return m;
        return double.PositiveInfinity;
    }

    /// <summary>
    /// Magnitude-based: planes are handed out in a fixed order, every layer's MSB before any layer's second
    /// plane, and within a plane level layers by ‖W_l‖_∞ from the largest down (for symmetric quantization
    /// ‖W_l‖_∞ = s_l·(2^{b−1} − 1), so the scale ranks them). The plan is the longest prefix of that order
    /// the budget pays for. It ignores each layer's sensitivity and the flip physics: what TAC adds.
    /// </summary>
    public static int[] MagnitudeBased(ProtectionProblem problem, long maxProtectedBits)
    {
        var planes = new int[problem.Layers.Count];
        long spent = 0;
        foreach (int layer in MagnitudeOrder(problem))
        {
            long cost = problem.Layers[layer].WeightCount;
            if (spent + cost > maxProtectedBits) break;
            spent += cost;
            planes[layer]++;
        }
        return planes;
    }

    /// <summary>The shortest prefix of the magnitude order whose plan predicts at most <paramref name="target"/>, in bits per weight.</summary>
    /// <remarks>
    /// Each plane handed out lowers one layer's term of D and no other, and D sums the terms in a fixed order, so D is
    /// non-increasing along the order (in floating point too): a binary search over the prefix length finds the same
    /// prefix a scan would, with O(log(L·b)) evaluations of D instead of O(L·b) (a scan is quadratic in the layers).
    /// </remarks>
    public static double MagnitudeBasedMinimum(ProtectionProblem problem, double target)
    {
        int layers = problem.Layers.Count;
        int[] order = ByMagnitude(problem);
        long steps = (long)layers * problem.Bits;
        if (problem.PredictedDistortion(PrefixPlan(order, 0)) <= target) return 0;
        if (!(problem.PredictedDistortion(PrefixPlan(order, steps)) <= target)) return double.PositiveInfinity;
        long low = 0, high = steps;   // D(prefix low) > target, D(prefix high) <= target
        while (high - low > 1)
        {
            long mid = low + (high - low) / 2;
            if (problem.PredictedDistortion(PrefixPlan(order, mid)) <= target) high = mid;
            else low = mid;
        }
        long spent = 0;
        int[] planes = PrefixPlan(order, high);
        for (int l = 0; l < layers; l++) spent += planes[l] * problem.Layers[l].WeightCount;
        return (double)spent / problem.TotalWeights;
    }

    /// <summary>The plan of the first <paramref name="count"/> entries of the magnitude order.</summary>
    private static int[] PrefixPlan(int[] byMagnitude, long count)
    {
        var planes = new int[byMagnitude.Length];
        if (byMagnitude.Length == 0) return planes;
        int fullLevels = (int)(count / byMagnitude.Length), partial = (int)(count % byMagnitude.Length);
        for (int l = 0; l < planes.Length; l++) planes[l] = fullLevels;
        for (int i = 0; i < partial; i++) planes[byMagnitude[i]]++;
        return planes;
    }

    private static int[] ByMagnitude(ProtectionProblem problem) => Enumerable.Range(0, problem.Layers.Count)
        .OrderByDescending(l => problem.Layers[l].Scale)
        .ThenBy(l => l)
        .ToArray();

    /// <summary>Layer indices, one entry per plane to protect, in the order the magnitude rule protects them.</summary>
    private static IEnumerable<int> MagnitudeOrder(ProtectionProblem problem)
    {
        int[] byMagnitude = ByMagnitude(problem);
        for (int level = 0; level < problem.Bits; level++)
            foreach (int layer in byMagnitude)
                yield return layer;
    }
}
