using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Tests.Support;

/// <summary>A serialized onnx.TensorProto (the backend test data's input_N.pb / output_N.pb) as floats.</summary>
internal sealed record OnnxTensorFile(long[] Dims, int DataType, float[]? Values)
{
    public const int FloatType = 1;

    public const int Int32Type = 6, Int64Type = 7, DoubleType = 11;

    public bool IsFloat => DataType == FloatType;

    /// <summary>Float64 values, which a generated Run takes and returns as float32 (QTAML030).</summary>
    public bool IsFloat64 => DataType == DoubleType;

    /// <summary>Integer indices (token ids), which a generated Run takes as whole floats.</summary>
    public bool IsInteger => DataType is Int32Type or Int64Type;

    public static OnnxTensorFile Read(string path)
    {
        TensorProto tensor = TensorProto.Parser.ParseFrom(File.ReadAllBytes(path));
        long[] dims = tensor.Dims.ToArray();
        if (tensor.DataType == Int64Type)
            return new OnnxTensorFile(dims, tensor.DataType, tensor.RawData.Length > 0
                ? Enumerable.Range(0, tensor.RawData.Length / 8).Select(i => (float)BitConverter.ToInt64(tensor.RawData.Span.Slice(i * 8, 8))).ToArray()
                : tensor.Int64Data.Select(v => (float)v).ToArray());
        if (tensor.DataType == DoubleType)
            return new OnnxTensorFile(dims, tensor.DataType, tensor.RawData.Length > 0
                ? Enumerable.Range(0, tensor.RawData.Length / 8).Select(i => (float)BitConverter.ToDouble(tensor.RawData.Span.Slice(i * 8, 8))).ToArray()
                : tensor.DoubleData.Select(v => (float)v).ToArray());
        if (tensor.DataType == Int32Type)
            return new OnnxTensorFile(dims, tensor.DataType, tensor.RawData.Length > 0
                ? Enumerable.Range(0, tensor.RawData.Length / 4).Select(i => (float)BitConverter.ToInt32(tensor.RawData.Span.Slice(i * 4, 4))).ToArray()
                : tensor.Int32Data.Select(v => (float)v).ToArray());
        if (tensor.DataType != FloatType) return new OnnxTensorFile(dims, tensor.DataType, null);
        float[] values = tensor.RawData.Length > 0
            ? Enumerable.Range(0, tensor.RawData.Length / 4).Select(i => BitConverter.ToSingle(tensor.RawData.Span.Slice(i * 4, 4))).ToArray()
            : tensor.FloatData.ToArray();
        return new OnnxTensorFile(dims, tensor.DataType, values);
    }
}
