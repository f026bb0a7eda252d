using System;

namespace Qtaml.Generators.Emit;

/// <summary>
/// Z85 (ZeroMQ RFC 32/Z85): each four bytes, read big-endian, as five digits of base 85. 1.25 text bytes per byte
/// against base64's 1.33, and its alphabet holds neither a quote nor a backslash, so the text goes into a C# string
/// literal as it is. The generated class carries the matching decoder (<see cref="BakedDataWriter"/>).
/// </summary>
internal static class Z85
{
    /// <summary>The 85 digits, in order of value.</summary>
    public const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

    /// <summary>The text length of <paramref name="count"/> bytes: five digits per group of four, a last partial group padded with zeros.</summary>
    public static long TextLength(long count) => (count + 3) / 4 * 5;

    /// <summary>Bytes <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="count"/> as Z85 text; a last partial group is padded with zero bytes (the decoder knows the length).</summary>
    public static string Encode(byte[] bytes, int offset, int count)
    {
        var text = new char[TextLength(count)];
        int t = 0;
        for (int at = 0; at < count; at += 4)
        {
            uint value = 0;
            for (int b = 0; b < 4; b++) value = (value << 8) | (at + b < count ? bytes[offset + at + b] : 0u);
            for (int d = 4; d >= 0; d--)
            {
                text[t + d] = Alphabet[(int)(value % 85)];
                value /= 85;
            }
            t += 5;
        }
        return new string(text);
    }
}
