using System.Globalization;
using System.Linq;
using System.Text;

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
    /// Bytes as one UTF-16 string literal, two bytes per char (little-endian), every char escaped: the
    /// cheapest encoding for the compiler (DESIGN 5), read back with MemoryMarshal.AsBytes.
    /// </summary>
    public static string PackedBytes(byte[] bytes)
    {
        var text = new StringBuilder(bytes.Length * 3 + 2).Append('"');
        for (int i = 0; i < bytes.Length; i += 2)
        {
            int low = bytes[i], high = i + 1 < bytes.Length ? bytes[i + 1] : 0;
            text.Append("\\u").Append((low | high << 8).ToString("X4", CultureInfo.InvariantCulture));
        }
        return text.Append('"').ToString();
    }
}
