using System;
using System.Collections.Generic;
using System.Globalization;

namespace Qtaml.Generators.Emit;

/// <summary>
/// The data section of a generated class: every weight code and every constant array of more than a few values,
/// packed into one byte blob that the class decodes once, on first use. Written as Z85 text inside UTF-8 string
/// literals, which the compiler stores as the assembly's read-only data: 1.25 source bytes per stored byte, one token
/// per line for the compiler (an array initializer is one syntax node per element), and no 16 MB string heap limit.
/// </summary>
/// <remarks>
/// Kernels name their constants through <see cref="FloatSpan"/>: a short array stays an inline literal a reader can
/// see, a longer one becomes a slice of the blob. The weight image goes first (<see cref="BakedImages.Add"/>), so its
/// offsets are the image's own.
/// </remarks>
internal sealed class ConstantData
{
    /// <summary>Arrays up to this many values are written inline, where a reader sees them.</summary>
    public const int InlineFloats = 16;

    /// <summary>Decoded bytes per source line: a multiple of 4, so every line but the last is whole Z85 groups and decodes on its own.</summary>
    public const int BytesPerLine = 4 * 49152;

    /// <summary>Every slice starts on this boundary from the decoded array's aligned start (<c>AlignedArrays</c>), so a Vector512 of a slice is one cache line.</summary>
    private const int Alignment = 64;

    private readonly List<byte[]> _segments = new();
    private readonly Dictionary<string, int> _floats = new(StringComparer.Ordinal);
    private long _length;

    /// <summary>The nested class that holds the decoded blob.</summary>
    public const string ClassName = "BakedData";

    /// <summary>The number of bytes the class decodes.</summary>
    public long Length => _length;

    /// <summary>Adds <paramref name="bytes"/> and returns their offset in the blob.</summary>
    public int Add(byte[] bytes)
    {
        long at = (_length + Alignment - 1) / Alignment * Alignment;
        if (at > _length) _segments.Add(new byte[at - _length]);
        if (at + bytes.Length > int.MaxValue)
            throw new InvalidOperationException("The model's constants exceed 2 GB, more than one .NET array holds.");
        _segments.Add(bytes);
        _length = at + bytes.Length;
        return (int)at;
    }

    /// <summary>
    /// The expression for a constant float array: an inline literal when short, else a slice of the blob. Equal
    /// arrays share one slice.
    /// </summary>
    public string FloatSpan(float[] values)
    {
        if (values.Length <= InlineFloats) return Literals.FloatArray(values);
        byte[] bytes = LittleEndian(values);
        if (values.Length > ShareFloats) return Expression(Add(bytes), values.Length);
        string key = Convert.ToBase64String(bytes);
        if (!_floats.TryGetValue(key, out int offset)) _floats[key] = offset = Add(bytes);
        return Expression(offset, values.Length);
    }

    /// <summary>Arrays up to this many values are looked up among those added before (channel scales, biases and padding repeat); weight tables are not.</summary>
    private const int ShareFloats = 4096;

    private static string Expression(int offset, int count)
    {
        return ClassName + ".Floats(" + offset.ToString(CultureInfo.InvariantCulture) + ", " + count.ToString(CultureInfo.InvariantCulture) + ")";
    }

    /// <summary>The blob's bytes, in order.</summary>
    public byte[] ToArray()
    {
        var all = new byte[_length];
        long at = 0;
        foreach (byte[] segment in _segments)
        {
            Buffer.BlockCopy(segment, 0, all, (int)at, segment.Length);
            at += segment.Length;
        }
        return all;
    }

    /// <summary>The blob as source lines of Z85 UTF-8 literals, <see cref="BytesPerLine"/> bytes each (the last may be fewer).</summary>
    public IEnumerable<string> Lines()
    {
        byte[] all = ToArray();
        for (int at = 0; at < all.Length; at += BytesPerLine)
            yield return Literals.Utf8Z85(all, at, Math.Min(BytesPerLine, all.Length - at));
    }

    /// <summary>The number of source lines <see cref="Lines"/> gives.</summary>
    public int LineCount => (int)((_length + BytesPerLine - 1) / BytesPerLine);

    /// <summary>Floats as little-endian IEEE 754 bytes, whatever the build machine's byte order.</summary>
    public static byte[] LittleEndian(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < bytes.Length; i += 4) Array.Reverse(bytes, i, 4);
        return bytes;
    }

    /// <summary>True when the blob holds nothing.</summary>
    public bool IsEmpty => _length == 0;
}
