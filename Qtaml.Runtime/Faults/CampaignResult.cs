using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Qtaml.Faults;

/// <summary>
/// The trials of a campaign and their summary: mean, sample standard deviation and a two-sided 95%
/// confidence interval for the mean from Student's t (the trials are independent; their mean is close to
/// normal for the bounded metrics campaigns measure).
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
    }

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

    /// <summary>The lower end of the 95% confidence interval for the mean.</summary>
    public double Lower95 => Mean - HalfWidth95;

    /// <summary>The upper end of the 95% confidence interval for the mean.</summary>
    public double Upper95 => Mean + HalfWidth95;

    /// <inheritdoc />
    public override string ToString() => string.Format(CultureInfo.InvariantCulture, "{0:G6} ± {1:G3} (95% CI, n = {2})", Mean, HalfWidth95, Trials);
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
