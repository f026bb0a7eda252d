using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace Qtaml.Tools;

/// <summary>Writes float32 and int64 arrays in NumPy's .npy format (version 1.0, C order, little-endian), as numpy.save does.</summary>
public static class NpyFile
{
    public static byte[] Write(float[] values, params int[] shape)
    {
        var data = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, data, 0, data.Length);
        return Write("<f4", 4, data, values.Length, shape);
    }

    /// <summary>Class labels, as numpy saves an int64 vector.</summary>
    public static byte[] Write(long[] values, params int[] shape)
    {
        var data = new byte[values.Length * 8];
        Buffer.BlockCopy(values, 0, data, 0, data.Length);
        return Write("<i8", 8, data, values.Length, shape);
    }

    private static byte[] Write(string descr, int itemSize, byte[] data, int count, int[] shape)
    {
        if (shape.Aggregate(1L, (a, b) => a * b) != count) throw new ArgumentException("The shape does not hold the values.", nameof(shape));
        string tuple = shape.Length == 1 ? "(" + shape[0] + ",)" : "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + tuple + ", }";
        // The magic, version and length take 10 bytes; the header is padded with spaces to a multiple of 64 and ends in '\n'.
        int total = (10 + header.Length + 1 + 63) / 64 * 64;
        header = header.PadRight(total - 10 - 1) + "\n";
        using var stream = new MemoryStream();
        stream.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, (byte)(header.Length >> 8) });
        stream.Write(Encoding.ASCII.GetBytes(header));
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < data.Length; i += itemSize) Array.Reverse(data, i, itemSize);
        stream.Write(data);
        return stream.ToArray();
    }
}
