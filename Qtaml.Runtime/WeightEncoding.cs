namespace Qtaml;

/// <summary>How a build stores its weight codes (the attribute's <see cref="TunnelingCompensatedAttribute.Encoding"/>).</summary>
public enum WeightEncoding
{
    /// <summary>The generator picks the encoding of least predicted distortion for the node (sign-magnitude under one-way leaks).</summary>
    Automatic = 0,

    /// <summary>Two's complement (<see cref="Moments.CodeEncoding.TwosComplement"/>).</summary>
    TwosComplement = 1,

    /// <summary>Sign-magnitude (<see cref="Moments.CodeEncoding.SignMagnitude"/>), for widths up to 10 bits (picked automatically up to 8).</summary>
    SignMagnitude = 2,
}
