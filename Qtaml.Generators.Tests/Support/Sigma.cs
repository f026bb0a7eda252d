namespace Qtaml.Generators.Tests.Support;

/// <summary>
/// Monte Carlo acceptance bands derived from the sample size. With a fixed seed a test is deterministic;
/// the bands say how far an honest estimator may stray, so a failure means a wrong formula, not bad luck
/// (a 4-sigma band is exceeded by chance with probability 6e-5).
/// </summary>
internal static class Sigma
{
    public const double Bands = 4;

    /// <summary>The 4σ half-width for a sample mean of n draws with variance <paramref name="variance"/>.</summary>
    public static double MeanBand(double variance, long n) => Bands * Math.Sqrt(variance / n);

    /// <summary>
    /// The 4σ half-width for a sample variance of n draws: Var(s²) ≈ (μ4 − σ⁴)/n, with the fourth central
    /// moment μ4 of the distribution supplied by the caller.
    /// </summary>
    public static double VarianceBand(double variance, double fourthCentralMoment, long n) =>
        Bands * Math.Sqrt((fourthCentralMoment - variance * variance) / n);

    /// <summary>The 4σ half-width for an observed frequency of an event of probability p over n trials.</summary>
    public static double FrequencyBand(double p, long n) => Bands * Math.Sqrt(p * (1 - p) / n);
}
