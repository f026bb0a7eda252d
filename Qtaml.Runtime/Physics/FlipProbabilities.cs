using System;
using System.Globalization;

namespace Qtaml.Physics;

/// <summary>
/// The probability that a stored bit reads back flipped at the end of a retention window:
/// <see cref="P10"/> for a stored 1 (the charged state leaks away), <see cref="P01"/> for a stored 0.
/// </summary>
public readonly struct FlipProbabilities : IEquatable<FlipProbabilities>
{
    /// <summary>Creates a pair of flip probabilities, each in [0, 1], whose sum is below 1.</summary>
    /// <remarks>
    /// p10 + p01 &lt; 1 is what a retention process produces (the two-state chain never overshoots its
    /// equilibrium) and what makes the read-out mean an invertible map of the stored code.
    /// </remarks>
    public FlipProbabilities(double p10, double p01)
    {
        if (!(p10 >= 0 && p10 <= 1)) throw new ArgumentOutOfRangeException(nameof(p10), p10, "p10 must be a probability in [0, 1].");
        if (!(p01 >= 0 && p01 <= 1)) throw new ArgumentOutOfRangeException(nameof(p01), p01, "p01 must be a probability in [0, 1].");
        if (!(p10 + p01 < 1))
            throw new ArgumentOutOfRangeException(nameof(p01), p01, $"p10 + p01 must be below 1 (got {p10 + p01:R}); at 1 or above a read-out carries no information about the stored bit.");
        P10 = p10;
        P01 = p01;
    }

    /// <summary>Probability that a stored 1 reads as 0.</summary>
    public double P10 { get; }

    /// <summary>Probability that a stored 0 reads as 1.</summary>
    public double P01 { get; }

    /// <summary>No flips at all.</summary>
    public static FlipProbabilities None => default;

    /// <summary>The same flip probability in both directions, as in the paper's experiments (p = 0.10, 0.05).</summary>
    public static FlipProbabilities Symmetric(double pFlip)
    {
        if (!(pFlip >= 0 && pFlip < 0.5))
            throw new ArgumentOutOfRangeException(nameof(pFlip), pFlip, "A symmetric flip probability must be in [0, 0.5).");
        return new FlipProbabilities(pFlip, pFlip);
    }

    /// <summary>1 − p10 − p01: the factor by which the mean of an unprotected code shrinks.</summary>
    public double Contraction => 1 - P10 - P01;

    /// <summary>Probability that a bit stored as <paramref name="storedOne"/> reads back as 1.</summary>
    public double ReadsOne(bool storedOne) => storedOne ? 1 - P10 : P01;

    /// <summary>Probability that a bit stored as <paramref name="storedOne"/> reads back flipped.</summary>
    public double Flips(bool storedOne) => storedOne ? P10 : P01;

    /// <inheritdoc />
    public bool Equals(FlipProbabilities other) => P10.Equals(other.P10) && P01.Equals(other.P01);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is FlipProbabilities other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => unchecked(P10.GetHashCode() * 397 ^ P01.GetHashCode());

    /// <inheritdoc />
    public override string ToString() => string.Format(CultureInfo.InvariantCulture, "p10 = {0:G4}, p01 = {1:G4}", P10, P01);

    /// <summary>Value equality.</summary>
    public static bool operator ==(FlipProbabilities left, FlipProbabilities right) => left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(FlipProbabilities left, FlipProbabilities right) => !left.Equals(right);
}
