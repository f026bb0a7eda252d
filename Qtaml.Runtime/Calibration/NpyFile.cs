using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;

namespace Qtaml.Calibration;

/// <summary>
/// Writes arrays in NumPy's .npy format (version 1.0, C order, little-endian), byte for byte as <c>numpy.save</c>
/// does: the format a build's <c>Calibration = "inputs.npy"</c> and <c>qtaml --calibration</c> read. Calibration
/// inputs are float32, one model input per row: shape [N, input shape...].
/// </summary>
public static class NpyFile
{
    /// <summary>Saves float32 values of <paramref name="shape"/> (row-major) to <paramref name="path"/>.</summary>
    public static void Write(string path, ReadOnlySpan<float> values, params int[] shape) => File.WriteAllBytes(path, ToBytes(values, shape));

    /// <summary>Saves int64 values (class labels) of <paramref name="shape"/> to <paramref name="path"/>.</summary>
    public static void Write(string path, ReadOnlySpan<long> values, params int[] shape) => File.WriteAllBytes(path, ToBytes(values, shape));

    /// <summary>The .npy file of float32 values of <paramref name="shape"/>.</summary>
    public static byte[] ToBytes(ReadOnlySpan<float> values, params int[] shape) => Encode("<f4", sizeof(float), MemoryMarshal.AsBytes(values), values.Length, shape);

    /// <summary>The .npy file of int64 values of <paramref name="shape"/>.</summary>
    public static byte[] ToBytes(ReadOnlySpan<long> values, params int[] shape) => Encode("<i8", sizeof(long), MemoryMarshal.AsBytes(values), values.Length, shape);

    private static byte[] Encode(string descr, int itemSize, ReadOnlySpan<byte> data, int count, int[] shape)
    {
        if (shape is null || shape.Length == 0) throw new ArgumentException("Give the array's shape: [rows, ...].", nameof(shape));
        if (shape.Any(d => d < 0)) throw new ArgumentException("The shape's dimensions must not be negative.", nameof(shape));
        if (shape.Aggregate(1L, (a, b) => a * b) != count)
            throw new ArgumentException("The shape [" + string.Join(", ", shape) + "] holds " + shape.Aggregate(1L, (a, b) => a * b) + " values; " + count + " are given.", nameof(shape));
        string tuple = shape.Length == 1 ? "(" + shape[0].ToString(CultureInfo.InvariantCulture) + ",)" : "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + tuple + ", }";
        // The magic, version and length take 10 bytes; the header is padded with spaces to a multiple of 64 and ends in '\n'.
        int total = (10 + header.Length + 1 + 63) / 64 * 64;
        header = header.PadRight(total - 10 - 1) + "\n";
        var bytes = new byte[total + data.Length];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, (byte)(header.Length >> 8) }.CopyTo(bytes, 0);
        Encoding.ASCII.GetBytes(header).CopyTo(bytes, 10);
        data.CopyTo(bytes.AsSpan(total));
        if (!BitConverter.IsLittleEndian)
            for (int i = total; i < bytes.Length; i += itemSize) Array.Reverse(bytes, i, itemSize);
        return bytes;
    }
}
