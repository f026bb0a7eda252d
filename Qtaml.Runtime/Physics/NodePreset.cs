using System;
using System.Globalization;

namespace Qtaml.Physics;

/// <summary>
/// A process-node scenario: a gate stack, the hold voltage across it, and the retention constants
/// (DESIGN 3.3 and 7). Immutable; every field can be overridden with the <c>With…</c> methods.
/// </summary>
public sealed class NodePreset
{
    /// <summary>Creates a preset; use <see cref="NodePresets"/> for the named ones.</summary>
    public NodePreset(string name, GateStack stack, double holdVolts, double attemptRateHz, double reverseLeakRatio, double retentionSeconds, string provenance)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A node preset needs a name.", nameof(name));
        if (!(holdVolts >= 0) || double.IsInfinity(holdVolts))
            throw new ArgumentOutOfRangeException(nameof(holdVolts), holdVolts, "The hold voltage must be a finite number of volts, zero or more.");
        if (!(attemptRateHz >= 0) || double.IsInfinity(attemptRateHz))
            throw new ArgumentOutOfRangeException(nameof(attemptRateHz), attemptRateHz, "The attempt rate must be a finite number of hertz, zero or more.");
        if (!(reverseLeakRatio >= 0 && reverseLeakRatio <= 1))
            throw new ArgumentOutOfRangeException(nameof(reverseLeakRatio), reverseLeakRatio, "The reverse-leak ratio η must be in [0, 1].");
        if (!(retentionSeconds >= 0) || double.IsInfinity(retentionSeconds))
            throw new ArgumentOutOfRangeException(nameof(retentionSeconds), retentionSeconds, "The retention window must be a finite number of seconds, zero or more.");
        Name = name;
        Stack = stack ?? throw new ArgumentNullException(nameof(stack));
        HoldVolts = holdVolts;
        AttemptRateHz = attemptRateHz;
        ReverseLeakRatio = reverseLeakRatio;
        RetentionSeconds = retentionSeconds;
        Provenance = provenance ?? string.Empty;
    }

    /// <summary>The scenario label, such as "2nm".</summary>
    public string Name { get; }

    /// <summary>The gate dielectric that holds the stored charge.</summary>
    public GateStack Stack { get; }

    /// <summary>Voltage across the stack while a charged cell holds its value, in volts.</summary>
    public double HoldVolts { get; }

    /// <summary>ν: how often a stored electron meets the barrier, in Hz. Calibration, not physics.</summary>
    public double AttemptRateHz { get; }

    /// <summary>η = b/a: how fast a discharged cell charges relative to how fast a charged one leaks.</summary>
    public double ReverseLeakRatio { get; }

    /// <summary>Time between refreshes, in seconds.</summary>
    public double RetentionSeconds { get; }

    /// <summary>Which published figures the preset follows and which constants are calibration.</summary>
    public string Provenance { get; }

    /// <summary>WKB transmission through the stack at the hold voltage.</summary>
    public double Transmission => Wkb.Transmission(Stack, HoldVolts);

    /// <summary>The 1 → 0 leak rate a = ν·T, in 1/s.</summary>
    public double LeakRatePerSecond => RetentionModel.LeakRatePerSecond(AttemptRateHz, Transmission);

    /// <summary>p10 and p01 at the end of the retention window.</summary>
    public FlipProbabilities FlipProbabilities => RetentionModel.FlipProbabilities(LeakRatePerSecond, ReverseLeakRatio, RetentionSeconds);

    /// <summary>p10 and p01 of a read at a moment drawn uniformly over the retention window (what a build compensates for by default).</summary>
    public FlipProbabilities WindowAveragedFlipProbabilities => RetentionModel.WindowAverage(FlipProbabilities);

    /// <summary>p10 and p01 at the fraction <paramref name="fractionOfWindow"/> of the window (0: just refreshed, 1: its end).</summary>
    public FlipProbabilities FlipProbabilitiesAt(double fractionOfWindow) => RetentionModel.AtMoment(FlipProbabilities, fractionOfWindow);

    /// <summary>The same preset with another gate stack.</summary>
    public NodePreset WithStack(GateStack stack) => new(Name, stack, HoldVolts, AttemptRateHz, ReverseLeakRatio, RetentionSeconds, Provenance);

    /// <summary>The same preset with another hold voltage.</summary>
    public NodePreset WithHoldVolts(double volts) => new(Name, Stack, volts, AttemptRateHz, ReverseLeakRatio, RetentionSeconds, Provenance);

    /// <summary>The same preset with another attempt rate ν.</summary>
    public NodePreset WithAttemptRateHz(double hertz) => new(Name, Stack, HoldVolts, hertz, ReverseLeakRatio, RetentionSeconds, Provenance);

    /// <summary>The same preset with another reverse-leak ratio η.</summary>
    public NodePreset WithReverseLeakRatio(double eta) => new(Name, Stack, HoldVolts, AttemptRateHz, eta, RetentionSeconds, Provenance);

    /// <summary>The same preset with another retention window.</summary>
    public NodePreset WithRetentionSeconds(double seconds) => new(Name, Stack, HoldVolts, AttemptRateHz, ReverseLeakRatio, seconds, Provenance);

    /// <inheritdoc />
    public override string ToString() => string.Format(CultureInfo.InvariantCulture,
        "{0}: {1}, EOT {2:F2} nm, V_hold {3} V, T = {4:E3}, {5} at {6} ms",
        Name, Stack, Stack.EquivalentOxideThicknessNm, HoldVolts, Transmission, FlipProbabilities, RetentionSeconds * 1e3);
}
