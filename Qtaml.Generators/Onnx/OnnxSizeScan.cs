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

    /// <summary>The values the graph's initializers hold, as far as the file's structure shows them.</summary>
    public static long InitializerValues(byte[] bytes)
    {
        long total = 0;
        ProtobufWire.ForEachField(bytes, 0, bytes.Length, (field, wire, start, length, _) =>
        {
            if (field != ModelGraph || wire != ProtobufWire.LengthDelimited) return;
            ProtobufWire.ForEachField(bytes, start, length, (graphField, graphWire, tensorStart, tensorLength, _) =>
            {
                if (graphField == GraphInitializer && graphWire == ProtobufWire.LengthDelimited)
                    total = SaturatingAdd(total, TensorValues(bytes, tensorStart, tensorLength));
            });
        });
        return total;
    }

    /// <summary>min(product of dims, bytes of data) for one TensorProto.</summary>
    private static long TensorValues(byte[] bytes, int start, int length)
    {
        long claimed = 1, carried = 0;
        ProtobufWire.ForEachField(bytes, start, length, (field, wire, at, size, _) =>
        {
            if (field == TensorDims && wire == ProtobufWire.Varint) claimed = SaturatingMultiply(claimed, Math.Max(0, ProtobufWire.ReadVarint(bytes, ref at, bytes.Length)));
            else if (field == TensorDims && wire == ProtobufWire.LengthDelimited)
            {
                int end = at + size;
                while (at < end) claimed = SaturatingMultiply(claimed, Math.Max(0, ProtobufWire.ReadVarint(bytes, ref at, end)));
            }
            else if (wire == ProtobufWire.LengthDelimited && field != 8 && field != 13) carried += size;   // data fields; not the name or external_data
            else if (wire == ProtobufWire.Fixed32) carried += 4;
            else if (wire == ProtobufWire.Fixed64) carried += 8;
        });
        return Math.Min(claimed, carried);
    }

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    private static long SaturatingMultiply(long a, long b) => b != 0 && a > long.MaxValue / b ? long.MaxValue : a * b;
}
