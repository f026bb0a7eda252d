using System.IO;
using Google.Protobuf.Reflection;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// ONNX's schema is proto2, whose strings are bytes: ONNX Runtime accepts a name that is not valid UTF-8 (a lone
/// UTF-16 surrogate written as WTF-8, a Latin-1 byte), while Google.Protobuf refuses the whole file. Before parsing,
/// every string field the schema declares is checked; where one is not valid UTF-8, each byte outside a valid sequence
/// is rewritten as the private-use character U+F700 + byte (so U+F780..U+F7FF), and the messages around it get their
/// new lengths. Distinct byte strings stay distinct names (the graph wires as ONNX Runtime wires it), and the escaped
/// text, like any name, reaches generated code only through the escaping helpers. A file whose strings are all valid
/// is returned as it is, untouched.
/// </summary>
internal static class InvalidUtf8Strings
{
    /// <summary>Nesting beyond this is left as it is (the parser refuses it: protobuf's own recursion limit is 100).</summary>
    private const int MaxDepth = 100;

    /// <summary>The first of the 128 private-use characters that stand for bytes 0x80..0xFF outside a valid sequence.</summary>
    public const int EscapeBase = 0xF700;

    /// <summary>The model's bytes with every invalid string made valid UTF-8; the same array when there is none.</summary>
    public static byte[] Escape(byte[] bytes)
    {
        if (IsValid(bytes, 0, bytes.Length, ModelProto.Descriptor, 0)) return bytes;
        using var output = new MemoryStream(bytes.Length + 256);
        Rewrite(bytes, 0, bytes.Length, ModelProto.Descriptor, output, 0);
        return output.ToArray();
    }

    private static bool IsValid(byte[] bytes, int start, int length, MessageDescriptor message, int depth)
    {
        if (depth > MaxDepth) return true;
        bool valid = true;
        ProtobufWire.ForEachField(bytes, start, length, (number, wire, at, size, _) =>
        {
            if (!valid || wire != ProtobufWire.LengthDelimited) return;
            FieldDescriptor? field = message.FindFieldByNumber(number);
            if (field?.FieldType == FieldType.String) valid = Utf8Length(bytes, at, size) == size;
            else if (field?.FieldType == FieldType.Message) valid = IsValid(bytes, at, size, field.MessageType, depth + 1);
        });
        return valid;
    }

    private static void Rewrite(byte[] bytes, int start, int length, MessageDescriptor message, MemoryStream output, int depth)
    {
        int copied = start;
        ProtobufWire.ForEachField(bytes, start, length, (number, wire, at, size, fieldStart) =>
        {
            if (wire != ProtobufWire.LengthDelimited || depth > MaxDepth) return;
            FieldDescriptor? field = message.FindFieldByNumber(number);
            byte[]? replaced = null;
            if (field?.FieldType == FieldType.String && Utf8Length(bytes, at, size) != size) replaced = Escaped(bytes, at, size);
            else if (field?.FieldType == FieldType.Message && !IsValid(bytes, at, size, field.MessageType, depth + 1))
            {
                using var inner = new MemoryStream(size + 64);
                Rewrite(bytes, at, size, field.MessageType, inner, depth + 1);
                replaced = inner.ToArray();
            }
            if (replaced is null) return;
            output.Write(bytes, copied, fieldStart - copied);
            ProtobufWire.WriteVarint(output, ((ulong)number << 3) | ProtobufWire.LengthDelimited);
            ProtobufWire.WriteVarint(output, (ulong)replaced.Length);
            output.Write(replaced, 0, replaced.Length);
            copied = at + size;
        });
        output.Write(bytes, copied, start + length - copied);
    }

    /// <summary>The string's bytes with each byte outside a valid UTF-8 sequence replaced by U+F700 + byte.</summary>
    private static byte[] Escaped(byte[] bytes, int start, int length)
    {
        using var output = new MemoryStream(length * 3);
        int at = start, end = start + length;
        while (at < end)
        {
            int valid = SequenceLength(bytes, at, end);
            if (valid > 0)
            {
                output.Write(bytes, at, valid);
                at += valid;
                continue;
            }
            int escape = EscapeBase + bytes[at++];   // a three-byte sequence: 1110xxxx 10xxxxxx 10xxxxxx
            output.WriteByte((byte)(0xE0 | escape >> 12));
            output.WriteByte((byte)(0x80 | (escape >> 6 & 0x3F)));
            output.WriteByte((byte)(0x80 | (escape & 0x3F)));
        }
        return output.ToArray();
    }

    /// <summary>How many of the bytes from <paramref name="start"/> form valid UTF-8 sequences, stopping at the first that does not.</summary>
    private static int Utf8Length(byte[] bytes, int start, int length)
    {
        int at = start, end = start + length, n;
        while (at < end && (n = SequenceLength(bytes, at, end)) > 0) at += n;
        return at - start;
    }

    /// <summary>
    /// The length of the well-formed UTF-8 sequence at <paramref name="at"/> (Unicode's table of well-formed byte
    /// sequences: no overlong forms, no surrogates, nothing past U+10FFFF), or 0 if there is none.
    /// </summary>
    private static int SequenceLength(byte[] bytes, int at, int end)
    {
        byte lead = bytes[at];
        if (lead < 0x80) return 1;
        (int count, byte low, byte high) = lead switch
        {
            >= 0xC2 and <= 0xDF => (2, (byte)0x80, (byte)0xBF),
            0xE0 => (3, (byte)0xA0, (byte)0xBF),
            >= 0xE1 and <= 0xEC => (3, (byte)0x80, (byte)0xBF),
            0xED => (3, (byte)0x80, (byte)0x9F),
            >= 0xEE and <= 0xEF => (3, (byte)0x80, (byte)0xBF),
            0xF0 => (4, (byte)0x90, (byte)0xBF),
            >= 0xF1 and <= 0xF3 => (4, (byte)0x80, (byte)0xBF),
            0xF4 => (4, (byte)0x80, (byte)0x8F),
            _ => (0, (byte)0, (byte)0),
        };
        if (count == 0 || end - at < count) return 0;
        if (bytes[at + 1] < low || bytes[at + 1] > high) return 0;
        for (int k = 2; k < count; k++)
            if (bytes[at + k] < 0x80 || bytes[at + k] > 0xBF) return 0;
        return count;
    }
}
