using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace Qtaml.Tools;

/// <summary>Writes float32 arrays in NumPy's .npy format (version 1.0, C order, little-endian), as numpy.save does.</summary>
public static class NpyFile
{
    public static byte[] Write(float[] values, params int[] shape)
    {
        if (shape.Aggregate(1L, (a, b) => a * b) != values.Length) throw new ArgumentException("The shape does not hold the values.", nameof(shape));
        string tuple = shape.Length == 1 ? "(" + shape[0] + ",)" : "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + tuple + ", }";
        // The magic, version and length take 10 bytes; the header is padded with spaces to a multiple of 64 and ends in '\n'.
        int total = (10 + header.Length + 1 + 63) / 64 * 64;
        header = header.PadRight(total - 10 - 1) + "\n";
        using var stream = new MemoryStream();
        stream.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, (byte)(header.Length >> 8) });
        stream.Write(Encoding.ASCII.GetBytes(header));
        var data = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, data, 0, data.Length);
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < data.Length; i += 4) Array.Reverse(data, i, 4);
        stream.Write(data);
        return stream.ToArray();
    }
}
