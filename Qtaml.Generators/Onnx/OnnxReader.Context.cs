using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

internal static partial class OnnxReader
{
    /// <summary>Access to the graph's constants and node attributes, with the checks every read needs.</summary>
    internal sealed class Context
    {
        private readonly Dictionary<string, TensorProto> _initializers;

        public Context(string path, Dictionary<string, TensorProto> initializers)
        {
            Path = path;
            _initializers = initializers;
        }

        public string Path { get; }

        public bool IsInitializer(string name) => _initializers.ContainsKey(name);

        private ModelReadException Shape(string node, string reason) => new(Diagnostics.ShapeMismatch, Path, node, reason);

        /// <summary>A float tensor; with <paramref name="finite"/> (a weight) NaN and infinity are refused as QTAML007.</summary>
        public (int[] Dims, float[] Values) Tensor(string tensorName, string node, bool finite = true)
        {
            if (!_initializers.TryGetValue(tensorName, out TensorProto? tensor))
                throw Shape(node, "the weight '" + tensorName + "' is computed at run time; Qtaml needs it as a graph initializer");
            CheckStoredInFile(tensor);
            if (tensor.DataType != FloatType) throw new ModelReadException(Diagnostics.UnsupportedDataType, Path, tensorName, tensor.DataType);
            int[] dims = Dims(tensor, node);
            long count = dims.Aggregate(1L, (a, b) => a * b);
            float[] values;
            if (tensor.RawData.Length > 0)
            {
                if (tensor.RawData.Length != count * 4)
                    throw new ModelReadException(Diagnostics.MalformedFile, Path, "the tensor '" + tensorName + "' claims " + count + " floats but holds " + tensor.RawData.Length + " bytes");
                values = new float[count];
                byte[] raw = tensor.RawData.ToByteArray();
                for (int i = 0; i < values.Length; i++)
                    values[i] = BitConverter.ToSingle(BitConverter.IsLittleEndian ? raw : ReverseEach4(raw), i * 4);
            }
            else
            {
                if (tensor.FloatData.Count != count)
                    throw new ModelReadException(Diagnostics.MalformedFile, Path, "the tensor '" + tensorName + "' claims " + count + " floats but holds " + tensor.FloatData.Count);
                values = tensor.FloatData.ToArray();
            }
            if (finite && values.Any(v => float.IsNaN(v) || float.IsInfinity(v))) throw new ModelReadException(Diagnostics.NonFiniteWeights, Path, tensorName);
            return (dims, values);
        }

        /// <summary>
        /// A tensor whose bytes live in another file (data_location EXTERNAL) cannot be read from the model alone; a
        /// file that says EXTERNAL and also carries bytes is contradictory, and neither is read as if it were local.
        /// </summary>
        private void CheckStoredInFile(TensorProto tensor)
        {
            if (tensor.DataLocation == TensorProto.Types.DataLocation.External || tensor.ExternalData.Count > 0)
                throw new ModelReadException(Diagnostics.MalformedFile, Path, "the tensor '" + tensor.Name + "' keeps its data in an external file"
                    + (tensor.RawData.Length > 0 ? " yet also carries raw data" : "") + "; save the model with its weights inside (onnx.save_model(..., save_as_external_data=False))");
            if (tensor.DataLocation != TensorProto.Types.DataLocation.Default)
                throw new ModelReadException(Diagnostics.MalformedFile, Path, "the tensor '" + tensor.Name + "' has an unknown data location " + (int)tensor.DataLocation);
        }

        /// <summary>A boolean tensor (Dropout's training_mode): ONNX stores BOOL in int32_data or one byte each in raw_data.</summary>
        public bool[] Booleans(string tensorName, string node)
        {
            if (!_initializers.TryGetValue(tensorName, out TensorProto? tensor))
                throw Shape(node, "'" + tensorName + "' is computed at run time; Qtaml needs it as a graph initializer");
            CheckStoredInFile(tensor);
            const int BoolType = 9;
            if (tensor.DataType != BoolType) throw new ModelReadException(Diagnostics.UnsupportedDataType, Path, tensorName, tensor.DataType);
            long count = Dims(tensor, node).Aggregate(1L, (a, b) => a * b);
            if (count > 16) throw Shape(node, "the boolean tensor '" + tensorName + "' is too long");
            if (tensor.RawData.Length > 0)
            {
                if (tensor.RawData.Length != count) throw new ModelReadException(Diagnostics.MalformedFile, Path, "the tensor '" + tensorName + "' claims " + count + " booleans but holds " + tensor.RawData.Length + " bytes");
                return tensor.RawData.Select(b => b != 0).ToArray();
            }
            if (tensor.Int32Data.Count != count) throw new ModelReadException(Diagnostics.MalformedFile, Path, "the tensor '" + tensorName + "' claims " + count + " booleans but holds " + tensor.Int32Data.Count);
            return tensor.Int32Data.Select(v => v != 0).ToArray();
        }

        public float[] Vector(string tensorName, string node, int length)
        {
            (int[] dims, float[] values) = Tensor(tensorName, node);
            if (values.Length != length) throw Shape(node, "'" + tensorName + "' has shape " + Network.Shape.Format(dims) + " but " + length + " values are needed");
            return values;
        }

        public long[] Longs(string tensorName, string node)
        {
            if (!_initializers.TryGetValue(tensorName, out TensorProto? tensor))
                throw Shape(node, "the shape '" + tensorName + "' is computed at run time; Qtaml needs it as a graph initializer");
            CheckStoredInFile(tensor);
            if (tensor.DataType != Int64Type) throw new ModelReadException(Diagnostics.UnsupportedDataType, Path, tensorName, tensor.DataType);
            int[] dims = Dims(tensor, node);
            long count = dims.Aggregate(1L, (a, b) => a * b);
            if (count > 16) throw Shape(node, "the shape tensor '" + tensorName + "' is too long");
            if (tensor.RawData.Length > 0)
            {
                if (tensor.RawData.Length != count * 8) throw new ModelReadException(Diagnostics.MalformedFile, Path, "the tensor '" + tensorName + "' claims " + count + " int64 values but holds " + tensor.RawData.Length + " bytes");
                byte[] raw = tensor.RawData.ToByteArray();
                return Enumerable.Range(0, (int)count).Select(i => BitConverter.ToInt64(raw, i * 8)).ToArray();
            }
            if (tensor.Int64Data.Count != count) throw new ModelReadException(Diagnostics.MalformedFile, Path, "the tensor '" + tensorName + "' claims " + count + " int64 values but holds " + tensor.Int64Data.Count);
            return tensor.Int64Data.ToArray();
        }

        /// <summary>An int64 or int32 index tensor and its shape.</summary>
        public (int[] Dims, long[] Values) Indices(string tensorName, string node)
        {
            if (!_initializers.TryGetValue(tensorName, out TensorProto? tensor))
                throw Shape(node, "the indices '" + tensorName + "' are computed at run time; Qtaml needs them as a graph initializer");
            CheckStoredInFile(tensor);
            int[] dims = Dims(tensor, node);
            long count = dims.Aggregate(1L, (a, b) => a * b);
            if (count > 1 << 16) throw Shape(node, "the index tensor '" + tensorName + "' holds more than 65536 indices");
            if (tensor.DataType == Int64Type) return (dims, LongValues(tensor, count, 8));
            if (tensor.DataType == Int32Type)
            {
                if (tensor.RawData.Length > 0) return (dims, LongValues(tensor, count, 4));
                if (tensor.Int32Data.Count != count) throw new ModelReadException(Diagnostics.MalformedFile, Path, "the tensor '" + tensorName + "' claims " + count + " int32 values but holds " + tensor.Int32Data.Count);
                return (dims, tensor.Int32Data.Select(v => (long)v).ToArray());
            }
            throw new ModelReadException(Diagnostics.UnsupportedDataType, Path, tensorName, tensor.DataType);
        }

        private long[] LongValues(TensorProto tensor, long count, int size)
        {
            if (tensor.RawData.Length == 0)
            {
                if (tensor.Int64Data.Count != count) throw new ModelReadException(Diagnostics.MalformedFile, Path, "the tensor '" + tensor.Name + "' claims " + count + " int64 values but holds " + tensor.Int64Data.Count);
                return tensor.Int64Data.ToArray();
            }
            if (tensor.RawData.Length != count * size) throw new ModelReadException(Diagnostics.MalformedFile, Path, "the tensor '" + tensor.Name + "' claims " + count + " values but holds " + tensor.RawData.Length + " bytes");
            byte[] raw = tensor.RawData.ToByteArray();
            return Enumerable.Range(0, (int)count).Select(i => size == 8 ? BitConverter.ToInt64(raw, i * 8) : BitConverter.ToInt32(raw, i * 4)).ToArray();
        }

        private int[] Dims(TensorProto tensor, string node)
        {
            long count = 1;
            var dims = new int[tensor.Dims.Count];
            for (int i = 0; i < dims.Length; i++)
            {
                long d = tensor.Dims[i];
                if (d < 0 || d > MaxTensorElements) throw new ModelReadException(Diagnostics.MalformedFile, Path, "the tensor '" + tensor.Name + "' has a dimension of " + d);
                count *= Math.Max(d, 1);
                if (count > MaxTensorElements) throw new ModelReadException(Diagnostics.MalformedFile, Path, "the tensor '" + tensor.Name + "' claims more than " + MaxTensorElements + " elements");
                dims[i] = (int)d;
            }
            return dims;
        }

        private static byte[] ReverseEach4(byte[] raw)
        {
            var copy = (byte[])raw.Clone();
            for (int i = 0; i + 3 < copy.Length; i += 4) Array.Reverse(copy, i, 4);
            return copy;
        }
    }
}
