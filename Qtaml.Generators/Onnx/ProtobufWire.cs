using System;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// The protobuf wire format at its lowest level, for the passes that look at an ONNX file before it is parsed (its
/// sizes, its names' bytes): fields as (number, wire type, span) over untrusted bytes. Anything malformed ends a walk
/// where it is, never with an exception: the parser that follows reports the file's real fault.
/// </summary>
internal static class ProtobufWire
{
    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

    /// <summary>One field: its number and wire type, where its value starts and how many bytes it takes, and where the field (its tag) starts.</summary>
    public delegate void FieldVisitor(int field, int wire, int start, int length, int fieldStart);

    /// <summary>
    /// Calls <paramref name="visit"/> for each field of the message in bytes[start, start + length). Returns whether
    /// the message was well formed to its end.
    /// </summary>
    public static bool ForEachField(byte[] bytes, int start, int length, FieldVisitor visit)
    {
        int at = start, end = start + length;
        while (at < end)
        {
            int fieldStart = at;
            long tag = ReadVarint(bytes, ref at, end);
            if (tag <= 0) return false;
            int field = (int)Math.Min(tag >> 3, int.MaxValue), wire = (int)(tag & 7);
            switch (wire)
            {
                case Varint:
                    int valueStart = at;
                    if (ReadVarint(bytes, ref at, end) < 0) return false;
                    visit(field, wire, valueStart, at - valueStart, fieldStart);
                    break;
                case Fixed64:
                    if (end - at < 8) return false;
                    visit(field, wire, at, 8, fieldStart);
                    at += 8;
                    break;
                case Fixed32:
                    if (end - at < 4) return false;
                    visit(field, wire, at, 4, fieldStart);
                    at += 4;
                    break;
                case LengthDelimited:
                    long size = ReadVarint(bytes, ref at, end);
                    if (size < 0 || size > end - at) return false;
                    visit(field, wire, at, (int)size, fieldStart);
                    at += (int)size;
                    break;
                default:
                    return false;   // groups and unknown wire types: not in ONNX
            }
        }
        return true;
    }

    /// <summary>A base-128 varint at <paramref name="at"/>, advancing it; −1 when it runs past <paramref name="end"/> or 64 bits.</summary>
    public static long ReadVarint(byte[] bytes, ref int at, int end)
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

    /// <summary>Appends <paramref name="value"/> as a varint.</summary>
    public static void WriteVarint(System.IO.Stream output, ulong value)
    {
        while (value >= 0x80)
        {
            output.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        output.WriteByte((byte)value);
    }
}
