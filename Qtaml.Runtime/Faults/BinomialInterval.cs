using System;

namespace Qtaml.Faults;

/// <summary>
/// The Clopper–Pearson ("exact") two-sided 95% interval for a binomial proportion: the p at which k or more (k or
/// fewer) successes of n have probability 2.5%. It never leaves [0, 1] and covers the true p at least 95% of the time
/// whatever n. Tails are summed from log-factorials, so n of a few hundred thousand decisions costs milliseconds.
/// </summary>
public static class BinomialInterval
{
    /// <summary>The interval for <paramref name="successes"/> of <paramref name="trials"/>.</summary>
    public static (double Lower, double Upper) ClopperPearson95(long successes, long trials)
    {
        if (trials < 1) throw new ArgumentOutOfRangeException(nameof(trials), trials, "At least one trial.");
        if (successes < 0 || successes > trials) throw new ArgumentOutOfRangeException(nameof(successes), successes, "Between 0 and the trials.");
        if (trials > 50_000_000) throw new ArgumentOutOfRangeException(nameof(trials), trials, "At most 50,000,000 trials.");
        const double tail = 0.025;
        double[] logFactorial = LogFactorials((int)trials);
        int n = (int)trials, k = (int)successes;
        // Lower: P(X >= k | p) = tail, increasing in p. Upper: P(X <= k | p) = tail, decreasing in p.
        double lower = k == 0 ? 0 : Solve(p => UpperTail(k, n, p, logFactorial) - tail, increasing: true);
        double upper = k == n ? 1 : Solve(p => LowerTail(k, n, p, logFactorial) - tail, increasing: false);
        return (lower, upper);
    }

    private static double[] LogFactorials(int n)
    {
        var table = new double[n + 1];
        for (int i = 2; i <= n; i++) table[i] = table[i - 1] + Math.Log(i);
        return table;
    }

    private static double LogPmf(int i, int n, double p, double[] logFactorial) =>
        logFactorial[n] - logFactorial[i] - logFactorial[n - i] + i * Math.Log(p) + (n - i) * Math.Log(1 - p);

    /// <summary>P(X ≥ k).</summary>
    private static double UpperTail(int k, int n, double p, double[] logFactorial)
    {
        double sum = 0;
        for (int i = k; i <= n; i++) sum += Math.Exp(LogPmf(i, n, p, logFactorial));
        return sum;
    }

    /// <summary>P(X ≤ k).</summary>
    private static double LowerTail(int k, int n, double p, double[] logFactorial)
    {
        double sum = 0;
        for (int i = 0; i <= k; i++) sum += Math.Exp(LogPmf(i, n, p, logFactorial));
        return sum;
    }

    /// <summary>The root in (0, 1) of a monotone function, by bisection to below 1e-12.</summary>
    private static double Solve(Func<double, double> f, bool increasing)
    {
        double low = 0, high = 1;
        for (int step = 0; step < 50; step++)
        {
            double mid = 0.5 * (low + high);
            if ((f(mid) < 0) == increasing) low = mid;
            else high = mid;
        }
        return 0.5 * (low + high);
    }
}
