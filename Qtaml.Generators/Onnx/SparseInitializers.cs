using System;
using System.Linq;
using Google.Protobuf;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// A sparse initializer (values at indices, zeros elsewhere) as the dense float tensor it stands for, which the rest
/// of the reader reads like any weight. Its dense size is only a claim of the file, so it is bounded before anything
/// is allocated; every index is checked against the shape.
/// </summary>
internal static class SparseInitializers
{
    /// <summary>The most values a sparse initializer may expand to (64 MB of floats).</summary>
    public const long MaxDenseElements = 16L * 1024 * 1024;

    public static TensorProto Densify(string path, SparseTensorProto sparse)
    {
        TensorProto values = sparse.Values ?? throw Malformed(path, "a sparse initializer", "has no values");
        string name = values.Name;
        TensorProto indices = sparse.Indices ?? throw Malformed(path, name, "has no indices");
        long dense = 1;
        foreach (long d in sparse.Dims)
        {
            if (d < 0) throw Malformed(path, name, "has a dimension of " + d);
            // Both factors are at most MaxDenseElements (2^24) when they are multiplied, so the product cannot wrap.
            if (d > MaxDenseElements || (dense *= d) > MaxDenseElements) throw new ModelReadException(Diagnostics.ShapeMismatch, path, name, "the sparse initializer expands to more than " + MaxDenseElements + " values; store it dense");
        }
        ConstantTensor v = ConstantTensor.Decode(path, values);
        if (v.Type is not (ConstantTensor.Float or ConstantTensor.Double)) throw new ModelReadException(Diagnostics.UnsupportedDataType, path, name, values.DataType);
        ConstantTensor at = ConstantTensor.Decode(path, indices);
        if (at.Type != ConstantTensor.Int64) throw Malformed(path, name, "has indices of ONNX type " + indices.DataType + "; ONNX stores them as int64");
        int nonZeros = v.Values.Length, rank = sparse.Dims.Count;
        bool linear = at.Dims.Length == 1;
        if (!(linear && at.Dims[0] == nonZeros) && !(at.Dims.Length == 2 && at.Dims[0] == nonZeros && at.Dims[1] == rank))
            throw Malformed(path, name, "has indices of shape [" + string.Join(", ", at.Dims) + "] for " + nonZeros + " values of a rank-" + rank + " tensor");

        var result = new float[dense];
        for (int k = 0; k < nonZeros; k++)
        {
            long index = 0;
            if (linear) index = (long)at.Values[k];
            else
                for (int d = 0; d < rank; d++)
                {
                    long coordinate = (long)at.Values[k * rank + d];
                    if (coordinate < 0 || coordinate >= sparse.Dims[d]) throw Malformed(path, name, "has an index outside its shape");
                    index = index * sparse.Dims[d] + coordinate;
                }
            if (index < 0 || index >= dense) throw Malformed(path, name, "has an index outside its shape");
            result[index] = (float)v.Values[k];
        }
        var tensor = new TensorProto { Name = name, DataType = ConstantTensor.Float };
        tensor.Dims.Add(sparse.Dims);
        var bytes = new byte[result.Length * 4];
        Buffer.BlockCopy(result, 0, bytes, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < bytes.Length; i += 4) Array.Reverse(bytes, i, 4);
        tensor.RawData = ByteString.CopyFrom(bytes);
        return tensor;
    }

    private static ModelReadException Malformed(string path, string name, string what) =>
        new(Diagnostics.MalformedFile, path, "the sparse initializer '" + name + "' " + what);
}
