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
    public static double MagnitudeBasedMinimum(ProtectionProblem problem, double target)
    {
        var planes = new int[problem.Layers.Count];
        long spent = 0;
        if (problem.PredictedDistortion(planes) <= target) return 0;
        foreach (int layer in MagnitudeOrder(problem))
        {
            spent += problem.Layers[layer].WeightCount;
            planes[layer]++;
            if (problem.PredictedDistortion(planes) <= target) return (double)spent / problem.TotalWeights;
        }
        return double.PositiveInfinity;
    }

    /// <summary>Layer indices, one entry per plane to protect, in the order the magnitude rule protects them.</summary>
    private static IEnumerable<int> MagnitudeOrder(ProtectionProblem problem)
    {
        int[] byMagnitude = Enumerable.Range(0, problem.Layers.Count)
            .OrderByDescending(l => problem.Layers[l].Scale)
            .ThenBy(l => l)
            .ToArray();
        for (int level = 0; level < problem.Bits; level++)
            foreach (int layer in byMagnitude)
                yield return layer;
    }
}
