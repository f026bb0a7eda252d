using System;
using System.Linq;
using Google.Protobuf;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// A constant the reader computes with at build time: its shape, its ONNX element type and its values, held as
/// doubles (exact for float32, and for the integers of shapes and indices). Only what build-time folding needs:
/// float, double, float16 excluded, int32, int64 and bool.
/// </summary>
internal sealed class ConstantTensor
{
    public const int Float = 1, Int32 = 6, Int64 = 7, Bool = 9, Double = 11;

    /// <summary>The most elements a folded constant may hold: shape arithmetic is small, and a file may not make the build allocate more.</summary>
    public const long MaxElements = 1 << 22;

    public ConstantTensor(int[] dims, int type, double[] values)
    {
        Dims = dims;
        Type = type;
        Values = values;
    }

    public int[] Dims { get; }
    public int Type { get; }
    public double[] Values { get; }
    public bool IsInteger => Type is Int32 or Int64 or Bool;

    public static bool IsSupported(int type) => type is Float or Int32 or Int64 or Bool or Double;

    /// <summary>The values of a checked tensor: raw little-endian bytes or the typed field, the count matching the shape.</summary>
    public static ConstantTensor Decode(string path, TensorProto tensor)
    {
        int[] dims = tensor.Dims.Select(d => d < 0 || d > MaxElements ? throw Malformed(path, tensor, "has a dimension of " + d) : (int)d).ToArray();
        long count = dims.Aggregate(1L, (a, b) => a * b);
        if (count > MaxElements) throw Malformed(path, tensor, "holds more than " + MaxElements + " elements to compute with at build time");
        if (!IsSupported(tensor.DataType)) throw new ModelReadException(Diagnostics.UnsupportedDataType, path, tensor.Name, tensor.DataType);
        int size = tensor.DataType switch { Float or Int32 => 4, Int64 or Double => 8, _ => 1 };
        double[] values;
        if (tensor.RawData.Length > 0)
        {
            if (tensor.RawData.Length != count * size) throw Malformed(path, tensor, "claims " + count + " values but holds " + tensor.RawData.Length + " bytes");
            byte[] raw = tensor.RawData.ToByteArray();
            if (!BitConverter.IsLittleEndian)
                for (int i = 0; i + size <= raw.Length; i += size) Array.Reverse(raw, i, size);
            values = new double[count];
            for (int i = 0; i < values.Length; i++)
                values[i] = tensor.DataType switch
                {
                    Float => BitConverter.ToSingle(raw, i * 4),
                    Int32 => BitConverter.ToInt32(raw, i * 4),
                    Int64 => BitConverter.ToInt64(raw, i * 8),
                    Double => BitConverter.ToDouble(raw, i * 8),
                    _ => raw[i] != 0 ? 1 : 0,
                };
        }
        else
        {
            values = tensor.DataType switch
            {
                Float => tensor.FloatData.Select(v => (double)v).ToArray(),
                Int64 => tensor.Int64Data.Select(v => (double)v).ToArray(),
                Double => tensor.DoubleData.ToArray(),
                _ => tensor.Int32Data.Select(v => (double)v).ToArray(),   // int32 and bool live in int32_data
            };
            if (values.Length != count) throw Malformed(path, tensor, "claims " + count + " values but holds " + values.Length);
        }
        return new ConstantTensor(dims, tensor.DataType, values);
    }

    /// <summary>The tensor as an initializer the rest of the reader reads: float (and double) as float, integers as int64, bool as bool.</summary>
    public TensorProto Encode(string name)
    {
        var tensor = new TensorProto { Name = name };
        tensor.Dims.Add(Dims.Select(d => (long)d));
        switch (Type)
        {
            case Float or Double:
                tensor.DataType = Float;
                tensor.FloatData.Add(Values.Select(v => (float)v));
                break;
            case Bool:
                tensor.DataType = Bool;
                tensor.Int32Data.Add(Values.Select(v => v != 0 ? 1 : 0));
                break;
            default:
                tensor.DataType = Int64;
                tensor.Int64Data.Add(Values.Select(v => (long)v));
                break;
        }
        return tensor;
    }

    public long Count => Values.Length;

    private static ModelReadException Malformed(string path, TensorProto tensor, string what) =>
        new(Diagnostics.MalformedFile, path, "the tensor '" + tensor.Name + "' " + what);
}
