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

    /// <summary>
    /// The flips a read sees at a moment of the retention window, from those at its end: the chain settles as
    /// 1 − e^{−(a+b)t}, and at the end that is P = p10 + p01, so at the fraction f of the window it is
    /// 1 − (1 − P)^f, shared between p10 and p01 in the end's proportion. f = 0 is just after a refresh (no flips).
    /// </summary>
    public static FlipProbabilities AtMoment(FlipProbabilities endOfWindow, double fractionOfWindow)
    {
        if (!(fractionOfWindow >= 0 && fractionOfWindow <= 1))
            throw new ArgumentOutOfRangeException(nameof(fractionOfWindow), fractionOfWindow, "A moment of the window is a fraction in [0, 1]: 0 just after a refresh, 1 at the end.");
        return Scaled(endOfWindow, settled => OneMinusExpNeg(-fractionOfWindow * Log1P(-settled)));
    }

    /// <summary>
    /// The flips of a read at a moment drawn uniformly over the retention window: each bit's read-out averaged over
    /// the window is a Bernoulli of the averaged probability, and since E[q~] is linear in (p10, p01), compensating
    /// for these is right on average over every moment. With P = p10 + p01 at the end, the averaged settling is
    /// ∫₀¹ 1 − (1 − P)^f df = 1 − P / (−ln(1 − P)); for small P about P/2.
    /// </summary>
    public static FlipProbabilities WindowAverage(FlipProbabilities endOfWindow) => Scaled(endOfWindow, settled =>
    {
        double rate = -Log1P(-settled);                     // (a + b)·t_R
        if (rate < 1e-4) return rate / 2 - rate * rate / 6; // 1 − (1 − e^{−x})/x for small x
        return 1 - settled / rate;
    });

    /// <summary>The end-of-window flips with their settled total P = p10 + p01 replaced by <paramref name="settle"/>(P), in the same proportion.</summary>
    private static FlipProbabilities Scaled(FlipProbabilities end, Func<double, double> settle)
    {
        double total = end.P10 + end.P01;
        if (total == 0) return Physics.FlipProbabilities.None;
        double now = settle(total);
        return new FlipProbabilities(now * end.P10 / total, now * end.P01 / total);
    }

    /// <summary>ln(1 + x), accurate for small x.</summary>
    private static double Log1P(double x) => Math.Abs(x) < 1e-4 ? x * (1 - x * (0.5 - x / 3)) : Math.Log(1 + x);

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
