namespace Qtaml.Physics;

/// <summary>CODATA 2018 exact and recommended values, in SI units.</summary>
public static class PhysicalConstants
{
    /// <summary>Elementary charge q, in coulombs (exact since the 2019 SI redefinition).</summary>
    public const double ElementaryCharge = 1.602176634e-19;

    /// <summary>Reduced Planck constant ħ, in joule-seconds.</summary>
    public const double ReducedPlanck = 1.054571817e-34;

    /// <summary>Electron rest mass m0, in kilograms.</summary>
    public const double ElectronMass = 9.1093837015e-31;

    /// <summary>Metres per nanometre.</summary>
    public const double MetresPerNanometre = 1e-9;
}
