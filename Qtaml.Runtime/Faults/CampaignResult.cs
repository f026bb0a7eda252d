using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Qtaml.Faults;

/// <summary>
/// The trials of a campaign and their summary: mean, sample standard deviation and a two-sided 95% confidence
/// interval for the mean. For any metric, from Student's t over the trials. For a share of decisions (each trial
/// the share of <see cref="DecisionsPerTrial"/> inputs decided as expected), the interval is the wider of the exact
/// Clopper–Pearson interval over all decisions and the trials' t interval, each within [0, 1]: the first is what the
/// decisions can resolve, the second what the spread between faulted images adds; neither leaves [0, 1].
/// </summary>
public sealed class CampaignResult
{
    private readonly double[] _values;

    /// <summary>Summarizes trial values.</summary>
    public CampaignResult(IReadOnlyList<double> values)
    {
        if (values is null) throw new ArgumentNullException(nameof(values));
        if (values.Count == 0) throw new ArgumentException("A campaign result needs at least one trial.", nameof(values));
        _values = values.ToArray();
        Mean = _values.Average();
        StandardDeviation = _values.Length > 1 ? Math.Sqrt(_values.Sum(v => (v - Mean) * (v - Mean)) / (_values.Length - 1)) : 0;
        Lower95 = Mean - HalfWidth95;
        Upper95 = Mean + HalfWidth95;
    }

    /// <summary>Summarizes trials whose values are shares of <paramref name="decisionsPerTrial"/> decisions each.</summary>
    public CampaignResult(IReadOnlyList<double> shares, int decisionsPerTrial) : this(shares)
    {
        if (decisionsPerTrial < 1) throw new ArgumentOutOfRangeException(nameof(decisionsPerTrial), decisionsPerTrial, "A share is of at least one decision.");
        if (_values.Any(v => !(v >= 0 && v <= 1))) throw new ArgumentException("A share lies in [0, 1].", nameof(shares));
        DecisionsPerTrial = decisionsPerTrial;
        long decisions = (long)decisionsPerTrial * Trials;
        long kept = _values.Sum(v => (long)Math.Round(v * decisionsPerTrial));
        (double low, double high) = BinomialInterval.ClopperPearson95(kept, decisions);
        Lower95 = Math.Max(0, Math.Min(low, Mean - HalfWidth95));
        Upper95 = Math.Min(1, Math.Max(high, Mean + HalfWidth95));
    }

    /// <summary>For a share of decisions, the decisions each trial makes; null for another metric.</summary>
    public int? DecisionsPerTrial { get; }

    /// <summary>Each trial's value, in trial order.</summary>
    public IReadOnlyList<double> Values => _values;

    /// <summary>The number of trials.</summary>
    public int Trials => _values.Length;

    /// <summary>The sample mean.</summary>
    public double Mean { get; }

    /// <summary>The sample standard deviation (n − 1 in the denominator).</summary>
    public double StandardDeviation { get; }

    /// <summary>The standard error of the mean, s/√n.</summary>
    public double StandardError => StandardDeviation / Math.Sqrt(Trials);

    /// <summary>Half the width of the 95% confidence interval: t_{0.975, n−1}·s/√n (infinite for one trial).</summary>
    public double HalfWidth95 => Trials < 2 ? double.PositiveInfinity : StudentT.Quantile975(Trials - 1) * StandardError;

    /// <summary>The lower end of the 95% confidence interval for the mean (for a share, never below 0).</summary>
    public double Lower95 { get; }

    /// <summary>The upper end of the 95% confidence interval for the mean (for a share, never above 1).</summary>
    public double Upper95 { get; }

    /// <summary>The mean and its interval as a person reads them: "97.25% (96.80% to 97.66%)" for a share, "x ± h" otherwise.</summary>
    public string Describe() => DecisionsPerTrial is null
        ? string.Format(CultureInfo.InvariantCulture, "{0:G6} ± {1:G3}", Mean, HalfWidth95)
        : Percent(Mean) + " (" + Percent(Lower95) + " to " + Percent(Upper95) + ")";

    /// <summary>A share as a percentage with two decimals, invariant and without the invariant culture's space ("97.25%").</summary>
    private static string Percent(double share) => (share * 100).ToString("F2", CultureInfo.InvariantCulture) + "%";

    /// <inheritdoc />
    public override string ToString() => DecisionsPerTrial is null
        ? string.Format(CultureInfo.InvariantCulture, "{0:G6} ± {1:G3} (95% CI, n = {2})", Mean, HalfWidth95, Trials)
        : Describe() + string.Format(CultureInfo.InvariantCulture, " (95% CI, {0} trials of {1} decisions)", Trials, DecisionsPerTrial);
}

/// <summary>The 97.5% quantile of Student's t, for 95% two-sided intervals.</summary>
internal static class StudentT
{
    // t_{0.975, ν} for ν = 1..30, from the standard tables.
    private static readonly double[] Table =
    {
        12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
        2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
        2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
    };

    public static double Quantile975(int degreesOfFreedom)
    {
        if (degreesOfFreedom < 1) throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom));
        if (degreesOfFreedom <= Table.Length) return Table[degreesOfFreedom - 1];
        // Cornish–Fisher expansion about the normal quantile; better than 1e-4 for ν > 30.
        const double z = 1.959963984540054;
        double v = degreesOfFreedom;
        return z + (z * z * z + z) / (4 * v) + (5 * Math.Pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * v * v);
    }
}
