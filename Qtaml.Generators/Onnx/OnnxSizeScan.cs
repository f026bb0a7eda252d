using System;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// How many values an ONNX file's initializers hold, read from the protobuf's structure alone (the wire format's
/// tags and lengths) before the file is parsed: a model far past what Qtaml bakes is refused for that reason, at
/// once, without materializing a copy of its tensors.
/// </summary>
/// <remarks>
/// A tensor counts the values its dims claim, but never more than the bytes it carries (raw_data and the packed
/// typed fields): a file that claims a billion elements in ten bytes is malformed, which the reader says, not
/// large. Anything the walk does not understand (a truncated length, a wire type out of place) ends the count where
/// it is; the reader then reports the file's real fault.
/// </remarks>
internal static class OnnxSizeScan
{
    private const int ModelGraph = 7, GraphInitializer = 5, TensorDims = 1;
    private const int LengthDelimited = 2, Varint = 0, Fixed64 = 1, Fixed32 = 5;

    /// <summary>The values the graph's initializers hold, as far as the file's structure shows them.</summary>
    public static long InitializerValues(byte[] bytes)
    {
        long total = 0;
        ForEachField(bytes, 0, bytes.Length, (field, wire, start, length) =>
        {
            if (field != ModelGraph || wire != LengthDelimited) return;
            ForEachField(bytes, start, length, (graphField, graphWire, tensorStart, tensorLength) =>
            {
                if (graphField == GraphInitializer && graphWire == LengthDelimited)
                    total = SaturatingAdd(total, TensorValues(bytes, tensorStart, tensorLength));
            });
        });
        return total;
    }

    /// <summary>min(product of dims, bytes of data) for one TensorProto.</summary>
    private static long TensorValues(byte[] bytes, int start, int length)
    {
        long claimed = 1, carried = 0;
        ForEachField(bytes, start, length, (field, wire, at, size) =>
        {
            if (field == TensorDims && wire == Varint) claimed = SaturatingMultiply(claimed, Math.Max(0, ReadVarint(bytes, ref at, bytes.Length)));
            else if (field == TensorDims && wire == LengthDelimited)
            {
                int end = at + size;
                while (at < end) claimed = SaturatingMultiply(claimed, Math.Max(0, ReadVarint(bytes, ref at, end)));
            }
            else if (wire == LengthDelimited && field != 8 && field != 13) carried += size;   // data fields; not the name or external_data
            else if (wire == Fixed32) carried += 4;
            else if (wire == Fixed64) carried += 8;
        });
        return Math.Min(claimed, carried);
    }

    /// <summary>
    /// Calls <paramref name="visit"/> with (field number, wire type, start, length) for each field of the message in
    /// bytes[start, start + length): for a varint field, start is where its value begins and length 0.
    /// </summary>
    private static void ForEachField(byte[] bytes, int start, int length, Action<int, int, int, int> visit)
    {
        int at = start, end = start + length;
        while (at < end)
        {
            long tag = ReadVarint(bytes, ref at, end);
            if (tag <= 0) return;
            int field = (int)Math.Min(tag >> 3, int.MaxValue), wire = (int)(tag & 7);
            switch (wire)
            {
                case Varint:
                    int valueStart = at;
                    if (ReadVarint(bytes, ref at, end) < 0) return;
                    visit(field, wire, valueStart, 0);
                    break;
                case Fixed64:
                    if (end - at < 8) return;
                    visit(field, wire, at, 8);
                    at += 8;
                    break;
                case Fixed32:
                    if (end - at < 4) return;
                    visit(field, wire, at, 4);
                    at += 4;
                    break;
                case LengthDelimited:
                    long size = ReadVarint(bytes, ref at, end);
                    if (size < 0 || size > end - at) return;
                    visit(field, wire, at, (int)size);
                    at += (int)size;
                    break;
                default:
                    return;   // groups and unknown wire types: not in ONNX
            }
        }
    }

    /// <summary>A base-128 varint at <paramref name="at"/>, advancing it; −1 when it runs past <paramref name="end"/> or 64 bits.</summary>
    private static long ReadVarint(byte[] bytes, ref int at, int end)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64 && at < end; shift += 7)
        {
            byte b = bytes[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return (long)(value & long.MaxValue);
        }
        return -1;
    }

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    private static long SaturatingMultiply(long a, long b) => b != 0 && a > long.MaxValue / b ? long.MaxValue : a * b;
}
