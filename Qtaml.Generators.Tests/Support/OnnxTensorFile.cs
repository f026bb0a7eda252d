using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Tests.Support;

/// <summary>A serialized onnx.TensorProto (the backend test data's input_N.pb / output_N.pb) as floats.</summary>
internal sealed record OnnxTensorFile(long[] Dims, int DataType, float[]? Values)
{
    public const int FloatType = 1;

    public bool IsFloat => DataType == FloatType;

    public static OnnxTensorFile Read(string path)
    {
        TensorProto tensor = TensorProto.Parser.ParseFrom(File.ReadAllBytes(path));
        long[] dims = tensor.Dims.ToArray();
        if (tensor.DataType != FloatType) return new OnnxTensorFile(dims, tensor.DataType, null);
        float[] values = tensor.RawData.Length > 0
            ? Enumerable.Range(0, tensor.RawData.Length / 4).Select(i => BitConverter.ToSingle(tensor.RawData.Span.Slice(i * 4, 4))).ToArray()
            : tensor.FloatData.ToArray();
        return new OnnxTensorFile(dims, tensor.DataType, values);
    }
}
