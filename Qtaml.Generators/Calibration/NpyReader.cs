using System;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace Qtaml.Generators.Calibration;

/// <summary>
/// A NumPy array read from a .npy file: its shape and its values as float32, row-major. The first axis counts the
/// samples; a row is one sample's values.
/// </summary>
internal sealed class NpyArray
{
    private readonly float[] _values;

    public NpyArray(int[] shape, float[] values)
    {
        Shape = shape;
        _values = values;
    }

    public int[] Shape { get; }

    /// <summary>The samples: the first axis.</summary>
    public int Rows => Shape.Length == 0 ? 1 : Shape[0];

    /// <summary>The values per sample: the product of the other axes.</summary>
    public int RowLength => Rows == 0 ? 0 : _values.Length / Rows;

    public double[] Row(int row)
    {
        var result = new double[RowLength];
        for (int i = 0; i < result.Length; i++) result[i] = _values[row * RowLength + i];
        return result;
    }
}

/// <summary>
/// Reads the NumPy .npy format (versions 1 to 3: a magic string, a header that is a Python dict literal with
/// 'descr', 'fortran_order' and 'shape', then the raw values). It reads float32, float64 and integers in either byte order,
/// in C order. The file is hostile input: the header's shape is checked against the bytes actually present before
/// anything is allocated, and only the first <c>maxRows</c> samples are kept.
/// </summary>
internal static class NpyReader
{
    private static readonly char[] Comma = { ',' };
    private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    /// <exception cref="FormatException">The file is not a .npy array Qtaml reads; the message says why.</exception>
    public static NpyArray Read(byte[] bytes, int maxRows)
    {
        if (bytes.Length < 10 || !Magic.SequenceEqual(bytes.Take(6)))
            throw new FormatException("it does not start with the .npy magic string (\\x93NUMPY); save it with Qtaml.Calibration.CalibrationRecorder or NpyFile.Write, qtaml calibration, or numpy.save");
        int major = bytes[6];
        if (major < 1 || major > 3) throw new FormatException("it is .npy format version " + major + "." + bytes[7] + "; Qtaml reads versions 1 to 3");
        int headerLength, headerStart;
        if (major == 1)
        {
            headerLength = bytes[8] | bytes[9] << 8;
            headerStart = 10;
        }
        else
        {
            if (bytes.Length < 12) throw new FormatException("its header is truncated");
            long length = (long)(bytes[8] | (uint)bytes[9] << 8 | (uint)bytes[10] << 16 | (uint)bytes[11] << 24);
            if (length > bytes.Length) throw new FormatException("its header claims " + length + " bytes; the file has " + bytes.Length);
            headerLength = (int)length;
            headerStart = 12;
        }
        if (headerStart + headerLength > bytes.Length) throw new FormatException("its header is truncated");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.ASCII).GetString(bytes, headerStart, headerLength);

        string descr = Field(header, "descr", @"'([^']*)'");
        (char kind, int itemSize, bool bigEndian) = ElementType(descr);
        if (Field(header, "fortran_order", @"(True|False)") == "True")
            throw new FormatException("it is stored in Fortran order; save numpy.ascontiguousarray(x) instead");

        string shapeText = Field(header, "shape", @"\(([^)]*)\)");
        string[] parts = shapeText.Split(Comma, StringSplitOptions.RemoveEmptyEntries).Select(p => p.Trim()).Where(p => p.Length > 0).ToArray();
        var shape = new int[parts.Length];
        long count = 1;
        for (int d = 0; d < parts.Length; d++)
        {
            if (!long.TryParse(parts[d], NumberStyles.None, CultureInfo.InvariantCulture, out long dim) || dim > int.MaxValue)
                throw new FormatException("its shape (" + shapeText + ") is not a tuple of sizes");
            shape[d] = (int)dim;
            count = Math.Min(count * dim, long.MaxValue / 16);
        }

        long dataStart = headerStart + headerLength;
        long available = bytes.Length - dataStart;
        if (count * itemSize != available)
            throw new FormatException("its shape (" + shapeText + ") needs " + count * itemSize + " bytes of values and the file holds " + available);

        int rows = shape.Length == 0 ? 1 : shape[0];
        long rowLength = rows == 0 ? 0 : count / rows;
        int kept = Math.Min(rows, Math.Max(maxRows, 0));
        var values = new float[kept * rowLength];
        for (int i = 0; i < values.Length; i++)
        {
            long at = dataStart + (long)i * itemSize;
            values[i] = kind != 'f' ? (float)ReadInteger(bytes, at, itemSize, bigEndian, kind == 'i')
                : itemSize == 4 ? ReadSingle(bytes, at, bigEndian) : (float)ReadDouble(bytes, at, bigEndian);
        }
        if (shape.Length > 0) shape[0] = kept;
        return new NpyArray(shape, values);
    }

    /// <summary>
    /// The element type of a 'descr': float32/float64 (inputs), or integers of 1 to 8 bytes (labels, as numpy saves
    /// class indices), in either byte order ('|' and '=' are this machine's, which .npy files treat as little-endian).
    /// </summary>
    private static (char Kind, int ItemSize, bool BigEndian) ElementType(string descr)
    {
        if (descr.Length == 3 && "<>|=".IndexOf(descr[0]) >= 0 && "fiu".IndexOf(descr[1]) >= 0)
        {
            int size = descr[2] - '0';
            bool valid = descr[1] == 'f' ? size is 4 or 8 : size is 1 or 2 or 4 or 8;
            if (valid) return (descr[1], size, descr[0] == '>');
        }
        throw new FormatException("it holds values of type '" + descr + "'; Qtaml reads float32 (numpy.float32, '<f4') or float64 arrays, and integer labels: save x.astype(numpy.float32)");
    }

    private static long ReadInteger(byte[] bytes, long at, int size, bool bigEndian, bool signed)
    {
        ulong value = 0;
        for (int b = 0; b < size; b++) value |= (ulong)bytes[at + (bigEndian ? size - 1 - b : b)] << (8 * b);
        if (signed && size < 8 && (value >> (8 * size - 1) & 1) != 0) value |= ulong.MaxValue << (8 * size);
        return (long)value;
    }

    private static string Field(string header, string key, string valuePattern)
    {
        Match match = Regex.Match(header, "['\"]" + key + "['\"]\\s*:\\s*" + valuePattern);
        if (!match.Success) throw new FormatException("its header has no '" + key + "' entry");
        return match.Groups[1].Value;
    }

    private static float ReadSingle(byte[] bytes, long at, bool bigEndian)
    {
        if (bigEndian != BitConverter.IsLittleEndian) return BitConverter.ToSingle(bytes, (int)at);
        var word = new byte[4];
        Array.Copy(bytes, at, word, 0, 4);
        if (bigEndian == BitConverter.IsLittleEndian) Array.Reverse(word);
        return BitConverter.ToSingle(word, 0);
    }

    private static double ReadDouble(byte[] bytes, long at, bool bigEndian)
    {
        if (bigEndian != BitConverter.IsLittleEndian) return BitConverter.ToDouble(bytes, (int)at);
        var word = new byte[8];
        Array.Copy(bytes, at, word, 0, 8);
        if (bigEndian == BitConverter.IsLittleEndian) Array.Reverse(word);
        return BitConverter.ToDouble(word, 0);
    }
}
