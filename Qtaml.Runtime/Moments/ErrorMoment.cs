using System;
using System.Globalization;

namespace Qtaml.Moments;

/// <summary>The mean and variance of a random quantity (a read code, a weight error, an output error).</summary>
public readonly struct ErrorMoment : IEquatable<ErrorMoment>
{
    /// <summary>Creates a moment pair.</summary>
    public ErrorMoment(double mean, double variance)
    {
        Mean = mean;
        Variance = variance;
    }

    /// <summary>The expectation.</summary>
    public double Mean { get; }

    /// <summary>The variance.</summary>
    public double Variance { get; }

    /// <summary>√Variance.</summary>
    public double StandardDeviation => Math.Sqrt(Variance);

    /// <inheritdoc />
    public bool Equals(ErrorMoment other) => Mean.Equals(other.Mean) && Variance.Equals(other.Variance);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ErrorMoment other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => unchecked(Mean.GetHashCode() * 397 ^ Variance.GetHashCode());

    /// <inheritdoc />
    public override string ToString() => string.Format(CultureInfo.InvariantCulture, "mean {0:G6}, variance {1:G6}", Mean, Variance);

    /// <summary>Value equality.</summary>
    public static bool operator ==(ErrorMoment left, ErrorMoment right) => left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(ErrorMoment left, ErrorMoment right) => !left.Equals(right);
}
