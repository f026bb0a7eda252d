using System.Globalization;
using System.Linq;

namespace Qtaml.Generators.Emit;

/// <summary>C# literals that round-trip exactly and never depend on the build machine's culture.</summary>
internal static class Literals
{
    public static string Float(float value) =>
        float.IsPositiveInfinity(value) ? "float.PositiveInfinity"
        : float.IsNegativeInfinity(value) ? "float.NegativeInfinity"
        : float.IsNaN(value) ? "float.NaN"
        : value.ToString("R", CultureInfo.InvariantCulture) + "f";

    public static string Double(double value) =>
        double.IsPositiveInfinity(value) ? "double.PositiveInfinity"
        : double.IsNaN(value) ? "double.NaN"
        : value.ToString("R", CultureInfo.InvariantCulture) + "d";

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string FloatArray(float[] values) => "new float[] { " + string.Join(", ", values.Select(Float)) + " }";

    /// <summary>
    /// Bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="count"/> as a UTF-8 string literal of
    /// their Z85 text: the compiler stores it as read-only data (RVA), not in the string heap. The Z85 alphabet needs
    /// no escape in a C# literal.
    /// </summary>
    public static string Utf8Z85(byte[] bytes, int offset, int count) => "\"" + Z85.Encode(bytes, offset, count) + "\"u8";
}
