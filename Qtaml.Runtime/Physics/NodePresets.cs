using System;
using System.Collections.Generic;
using System.Linq;

namespace Qtaml.Physics;

/// <summary>
/// The named node scenarios of DESIGN section 7. Node names are marketing names: only "7nm" follows a
/// published kit (ASAP7: EOT 1.0 nm, Vdd 0.7 V); the thinner stacks extrapolate about 0.09 nm of EOT per
/// node. The attempt rate ν is calibration: it is solved, not pasted, so that "2nm" gives p10 = 0.100 over
/// 64 ms, the paper's CNN setting; the other rows follow from the WKB ratio of their transmissions.
/// </summary>
public static class NodePresets
{
    /// <summary>The DRAM refresh interval used as every preset's retention window, in seconds.</summary>
    public const double DefaultRetentionSeconds = 0.064;

    /// <summary>The calibration anchor: p10 of the "2nm" preset over <see cref="DefaultRetentionSeconds"/>.</summary>
    public const double CalibrationFlipProbability = 0.100;

    private static readonly GateStack Anchor = GateStack.SiO2HfO2(0.48, 1.50);
    private const double AnchorHoldVolts = 0.65;

    /// <summary>
    /// ν, in Hz: the attempt rate at which the "2nm" stack at 0.65 V leaks p10 = 0.100 within 64 ms,
    /// ν = −ln(1 − 0.100) / (0.064 s · T_2nm).
    /// </summary>
    public static double CalibratedAttemptRateHz { get; } =
        RetentionModel.LeakRateForFlipProbability(CalibrationFlipProbability, DefaultRetentionSeconds) / Wkb.Transmission(Anchor, AnchorHoldVolts);

    private const string Calibration =
        " Calibration, not measurement: the attempt rate nu is solved so that the 2nm preset gives p10 = 0.100 over 64 ms;"
        + " eta = 0 (retention loss is one-directional: the charged state decays); the window is the 64 ms DRAM refresh interval.";

    private static readonly NodePreset[] Presets =
    {
        Create("7nm", 0.70, 1.80, 0.70, "Follows the ASAP7 predictive kit (EOT 1.0 nm, Vdd 0.7 V): 0.70 nm SiO2 + 1.80 nm HfO2, EOT 1.02 nm."),
        Create("5nm", 0.62, 1.70, 0.70, "Extrapolated about 0.09 nm EOT below 7nm: 0.62 nm SiO2 + 1.70 nm HfO2, EOT 0.92 nm, 0.70 V."),
        Create("3nm", 0.55, 1.60, 0.70, "Extrapolated: 0.55 nm SiO2 + 1.60 nm HfO2, EOT 0.83 nm, 0.70 V."),
        Create("2nm", 0.48, 1.50, 0.65, "Extrapolated: 0.48 nm SiO2 + 1.50 nm HfO2, EOT 0.75 nm, 0.65 V; the calibration anchor."),
        Create("A14", 0.42, 1.40, 0.65, "Extrapolated: 0.42 nm SiO2 + 1.40 nm HfO2, EOT 0.67 nm, 0.65 V."),
    };

    private static NodePreset Create(string name, double sio2Nm, double hfo2Nm, double holdVolts, string published) =>
        new(name, GateStack.SiO2HfO2(sio2Nm, hfo2Nm), holdVolts, CalibratedAttemptRateHz, 0, DefaultRetentionSeconds, published + Calibration);

    /// <summary>Every named preset, from the thickest stack to the thinnest.</summary>
    public static IReadOnlyList<NodePreset> All => Presets;

    /// <summary>The preset names, in order: "7nm", "5nm", "3nm", "2nm", "A14".</summary>
    public static IReadOnlyList<string> Names { get; } = Presets.Select(p => p.Name).ToArray();

    /// <summary>Finds a preset by name, ignoring case ("2NM" is "2nm").</summary>
    public static bool TryGet(string? name, out NodePreset preset)
    {
        foreach (NodePreset candidate in Presets)
        {
            if (string.Equals(candidate.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                preset = candidate;
                return true;
            }
        }
        preset = null!;
        return false;
    }

    /// <summary>The preset with this name; an <see cref="ArgumentException"/> that lists the known names otherwise.</summary>
    public static NodePreset Get(string name)
    {
        if (TryGet(name, out NodePreset preset)) return preset;
        throw new ArgumentException($"Unknown process node '{name}'. Known nodes: {string.Join(", ", Names)}.", nameof(name));
    }
}
