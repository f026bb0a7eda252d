using System;

namespace Qtaml.Physics;

/// <summary>
/// Each stored bit as a two-state Markov chain over a retention window (DESIGN 3.2): a charged node
/// (a stored 1) leaks at rate a = ν·T(V_hold); a stored 0 is charged by the reverse leak at b = η·a.
/// </summary>
public static class RetentionModel
{
    /// <summary>The leak rate a = ν·T of a charged cell, in 1/s.</summary>
    public static double LeakRatePerSecond(double attemptRateHz, double transmission)
    {
        if (!(attemptRateHz >= 0) || double.IsInfinity(attemptRateHz))
            throw new ArgumentOutOfRangeException(nameof(attemptRateHz), attemptRateHz, "The attempt rate must be a finite number of hertz, zero or more.");
        if (!(transmission >= 0 && transmission <= 1))
            throw new ArgumentOutOfRangeException(nameof(transmission), transmission, "A transmission probability must be in [0, 1].");
        return attemptRateHz * transmission;
    }

    /// <summary>
    /// Flip probabilities after <paramref name="retentionSeconds"/>:
    /// p10 = a/(a+b)·(1 − e^{−(a+b)t}), p01 = b/(a+b)·(1 − e^{−(a+b)t}).
    /// </summary>
    /// <param name="leakRatePerSecond">a, the 1 → 0 rate.</param>
    /// <param name="reverseLeakRatio">η = b/a (0 for one-directional retention loss).</param>
    /// <param name="retentionSeconds">t, the time between refreshes.</param>
    public static FlipProbabilities FlipProbabilities(double leakRatePerSecond, double reverseLeakRatio, double retentionSeconds)
    {
        if (!(leakRatePerSecond >= 0) || double.IsInfinity(leakRatePerSecond))
            throw new ArgumentOutOfRangeException(nameof(leakRatePerSecond), leakRatePerSecond, "The leak rate must be finite, zero or more.");
        if (!(reverseLeakRatio >= 0 && reverseLeakRatio <= 1))
            throw new ArgumentOutOfRangeException(nameof(reverseLeakRatio), reverseLeakRatio, "The reverse-leak ratio η must be in [0, 1]: a discharged node cannot charge faster than a charged one leaks.");
        if (!(retentionSeconds >= 0) || double.IsInfinity(retentionSeconds))
            throw new ArgumentOutOfRangeException(nameof(retentionSeconds), retentionSeconds, "The retention window must be a finite number of seconds, zero or more.");

        double total = leakRatePerSecond * (1 + reverseLeakRatio);   // a + b
        if (total == 0) return Physics.FlipProbabilities.None;
        double settled = OneMinusExpNeg(total * retentionSeconds);    // 1 − e^{−(a+b)t}
        double p10 = settled / (1 + reverseLeakRatio);
        double p01 = reverseLeakRatio * p10;
        if (!(p10 + p01 < 1))
            throw new ArgumentOutOfRangeException(nameof(retentionSeconds), retentionSeconds,
                "The cells settle completely within this retention window (p10 + p01 reaches 1): a read-out says nothing about what was stored. Shorten the window or lower the leak rate.");
        return new FlipProbabilities(p10, p01);
    }

    /// <summary>1 − e^{−x}, accurate for small x where the plain form cancels.</summary>
    internal static double OneMinusExpNeg(double x)
    {
        if (Math.Abs(x) < 1e-5) return x * (1 - x * (0.5 - x / 6));
        return 1 - Math.Exp(-x);
    }

    /// <summary>The leak rate that gives flip probability <paramref name="p10"/> over a window with η = 0: a = −ln(1 − p10)/t.</summary>
    public static double LeakRateForFlipProbability(double p10, double retentionSeconds)
    {
        if (!(p10 >= 0 && p10 < 1)) throw new ArgumentOutOfRangeException(nameof(p10), p10, "p10 must be in [0, 1).");
        if (!(retentionSeconds > 0) || double.IsInfinity(retentionSeconds))
            throw new ArgumentOutOfRangeException(nameof(retentionSeconds), retentionSeconds, "The retention window must be a finite number of seconds above zero.");
        return -Math.Log(1 - p10) / retentionSeconds;
    }
}
