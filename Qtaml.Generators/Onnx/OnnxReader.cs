using System;
using System.Collections.Generic;
using System.Linq;
using Google.Protobuf;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// Reads an ONNX model into a <see cref="NetworkGraph"/>. The file is untrusted: every length, shape and
/// attribute is checked before it is used, and nothing is allocated from a size the file merely claims
/// (protobuf itself only allocates what the bytes contain).
/// </summary>
internal static class OnnxReader
{
    /// <summary>The most elements a single tensor may hold (the baked route's limit is lower still).</summary>
    private const long MaxTensorElements = 64L * 1024 * 1024;

    private const int FloatType = 1;

    public static NetworkGraph Read(string path, byte[] bytes)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelReadException(Diagnostics.MalformedFile, path, "it is not a valid ONNX protobuf (" + e.Message + ")");
        }
        GraphProto graph = model.Graph ?? throw new ModelReadException(Diagnostics.MalformedFile, path, "the model has no graph");
        if (graph.Node.Count == 0) throw new ModelReadException(Diagnostics.MalformedFile, path, "the graph has no nodes");

        var initializers = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        foreach (TensorProto tensor in graph.Initializer) initializers[tensor.Name] = tensor;

        ValueInfoProto? input = graph.Input.FirstOrDefault(i => !initializers.ContainsKey(i.Name));
        if (input is null) throw new ModelReadException(Diagnostics.MalformedFile, path, "the graph declares no data input");
        int[] inputShape = ReadInputShape(path, input);

        var context = new Context(path, initializers);
        string current = input.Name;
        int[] shape = inputShape;
        var layers = new List<Layer>();
        foreach (NodeProto node in graph.Node)
        {
            string nodeName = string.IsNullOrEmpty(node.Name) ? node.OpType : node.Name;
            if (node.Input.Count == 0 || node.Input[0] != current)
            {
                // The second input of an Add may be the running tensor (bias + x).
                bool swappedAdd = node.OpType == "Add" && node.Input.Count == 2 && node.Input[1] == current;
                if (!swappedAdd)
                    throw new ModelReadException(Diagnostics.ShapeMismatch, path, nodeName,
                        "Qtaml compiles chains of layers, and this node does not take the previous node's output '" + current + "' as its data input");
            }
            if (node.Output.Count < 1) throw new ModelReadException(Diagnostics.MalformedFile, path, "node '" + nodeName + "' has no output");

            Layer? layer = ReadNode(context, node, nodeName, shape, layers);
            if (layer is not null)
            {
                layers.Add(layer);
                shape = layer.OutputShape;
            }
            current = node.Output[0];
        }
        return new NetworkGraph(inputShape, layers.ToArray());
    }

    private static int[] ReadInputShape(string path, ValueInfoProto input)
    {
        var dims = input.Type?.TensorType?.Shape?.Dim;
        if (dims is null || dims.Count == 0) throw new ModelReadException(Diagnostics.MalformedFile, path, "the input '" + input.Name + "' has no shape");
        int elemType = input.Type!.TensorType!.ElemType;
        if (elemType != FloatType) throw new ModelReadException(Diagnostics.UnsupportedDataType, path, input.Name, elemType);
        // The first dimension is the batch: a symbolic or unit dimension, compiled for batch 1.
        var shape = new List<int>();
        for (int i = 1; i < dims.Count; i++)
        {
            long d = dims[i].DimValue;
            if (d < 1 || d > MaxTensorElements)
                throw new ModelReadException(Diagnostics.ShapeMismatch, path, input.Name, "input dimension " + i + " is " + (d == 0 ? "symbolic" : d.ToString()) + "; Qtaml needs fixed positive sizes after the batch dimension");
            shape.Add((int)d);
        }
        if (dims[0].DimValue > 1) throw new ModelReadException(Diagnostics.ShapeMismatch, path, input.Name, "the batch dimension is " + dims[0].DimValue + "; export with batch 1 or a symbolic batch");
        if (shape.Count == 0) shape.Add(1);
        if (shape.Aggregate(1L, (a, b) => a * b) > MaxTensorElements) throw new ModelReadException(Diagnostics.ShapeMismatch, path, input.Name, "the input is larger than Qtaml supports");
        return shape.ToArray();
    }

    private static Layer? ReadNode(Context context, NodeProto node, string name, int[] shape, List<Layer> layers)
    {
        switch (node.OpType)
        {
            case "Gemm": return ReadGemm(context, node, name, shape);
            case "MatMul": return ReadMatMul(context, node, name, shape);
            case "Add":
                FoldBiasAdd(context, node, name, layers);
                return null;
            case "Relu": return new ReluLayer(name, shape);
            case "Softmax":
                if (shape.Length != 1) throw context.Shape(name, "Softmax is supported over a flat vector; flatten first");
                return new SoftmaxLayer(name, shape);
            case "Flatten":
            {
                long axis = Context.Int(node, "axis", 1);
                if (axis != 1) throw context.Shape(name, "Flatten with axis " + axis + " is not supported; Qtaml flattens everything after the batch dimension (axis 1)");
                return new ReshapeLayer(name, "Flatten", shape, new[] { Shape.Length(shape) });
            }
            case "Reshape": return ReadReshape(context, node, name, shape);
            case "Identity":
            case "Dropout":
                return null;   // inference-time no-ops
            case "Conv": return ReadConv(context, node, name, shape);
            case "MaxPool": return ReadPool(context, node, name, shape, PoolKind.Max);
            case "AveragePool": return ReadPool(context, node, name, shape, PoolKind.Average);
            case "BatchNormalization":
                FoldBatchNormalization(context, node, name, layers);
                return null;
            default:
                throw new ModelReadException(Diagnostics.UnsupportedOperator, context.Path, node.OpType, name);
        }
    }

    private static DenseLayer ReadGemm(Context context, NodeProto node, string name, int[] shape)
    {
        if (shape.Length != 1) throw context.Shape(name, "Gemm needs a flat input but gets " + Shape.Format(shape) + "; add a Flatten");
        if (node.Input.Count < 2) throw context.Shape(name, "Gemm needs a weight input");
        if (Context.Int(node, "transA", 0) != 0) throw context.Shape(name, "Gemm with transA = 1 is not supported");
        float alpha = Context.Float(node, "alpha", 1f), beta = Context.Float(node, "beta", 1f);
        bool transB = Context.Int(node, "transB", 0) != 0;
        (int[] dims, float[] w) = context.Tensor(node.Input[1], name);
        if (dims.Length != 2) throw context.Shape(name, "the Gemm weight has shape " + Shape.Format(dims) + "; a matrix is needed");
        int inputs = transB ? dims[1] : dims[0], outputs = transB ? dims[0] : dims[1];
        if (inputs != shape[0]) throw context.Shape(name, "the Gemm weight " + Shape.Format(dims) + " expects " + inputs + " inputs but the previous layer gives " + shape[0]);
        float[] weights = transB ? w : Transpose(w, dims[0], dims[1]);
        for (int i = 0; i < weights.Length; i++) weights[i] *= alpha;
        var bias = new float[outputs];
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            (int[] bDims, float[] b) = context.Tensor(node.Input[2], name);
            if (b.Length == outputs) for (int i = 0; i < outputs; i++) bias[i] = beta * b[i];
            else if (b.Length == 1) for (int i = 0; i < outputs; i++) bias[i] = beta * b[0];
            else throw context.Shape(name, "the Gemm bias has shape " + Shape.Format(bDims) + " but there are " + outputs + " outputs");
        }
        return new DenseLayer(name, "Gemm", inputs, outputs, weights, bias);
    }

    private static DenseLayer ReadMatMul(Context context, NodeProto node, string name, int[] shape)
    {
        if (shape.Length != 1) throw context.Shape(name, "MatMul needs a flat input but gets " + Shape.Format(shape));
        if (node.Input.Count != 2) throw context.Shape(name, "MatMul takes two inputs");
        (int[] dims, float[] w) = context.Tensor(node.Input[1], name);
        if (dims.Length != 2 || dims[0] != shape[0])
            throw context.Shape(name, "the MatMul weight has shape " + Shape.Format(dims) + " but the input has " + shape[0] + " values");
        return new DenseLayer(name, "MatMul", dims[0], dims[1], Transpose(w, dims[0], dims[1]), new float[dims[1]]);
    }

    private static void FoldBiasAdd(Context context, NodeProto node, string name, List<Layer> layers)
    {
        if (node.Input.Count != 2) throw context.Shape(name, "Add takes two inputs");
        string biasName = context.IsInitializer(node.Input[1]) ? node.Input[1] : node.Input[0];
        if (!context.IsInitializer(biasName))
            throw context.Shape(name, "Add of two computed tensors (a residual connection) is not supported yet");
        if (layers.Count == 0 || layers[layers.Count - 1] is not WeightLayer previous)
            throw context.Shape(name, "an Add of a constant is supported only right after a MatMul, Gemm or Conv (as its bias)");
        (int[] dims, float[] b) = context.Tensor(biasName, name);
        var ones = Enumerable.Repeat(1f, previous.Channels).ToArray();
        if (b.Length == previous.Channels) previous.FoldAffine(ones, b);
        else if (b.Length == 1) previous.FoldAffine(ones, Enumerable.Repeat(b[0], previous.Channels).ToArray());
        else throw context.Shape(name, "the added constant has shape " + Shape.Format(dims) + " but the previous layer has " + previous.Channels + " channels");
    }

    private static void FoldBatchNormalization(Context context, NodeProto node, string name, List<Layer> layers)
    {
        if (node.Input.Count < 5) throw context.Shape(name, "BatchNormalization needs scale, bias, mean and variance");
        if (layers.Count == 0 || layers[layers.Count - 1] is not WeightLayer previous)
            throw context.Shape(name, "BatchNormalization is folded into the Conv or Gemm before it, and there is none");
        float epsilon = Context.Float(node, "epsilon", 1e-5f);
        float[] scale = context.Vector(node.Input[1], name, previous.Channels);
        float[] shift = context.Vector(node.Input[2], name, previous.Channels);
        float[] mean = context.Vector(node.Input[3], name, previous.Channels);
        float[] variance = context.Vector(node.Input[4], name, previous.Channels);
        var a = new float[previous.Channels];
        var c = new float[previous.Channels];
        for (int ch = 0; ch < a.Length; ch++)
        {
            if (!(variance[ch] + epsilon > 0)) throw context.Shape(name, "a BatchNormalization variance plus epsilon is not positive");
            a[ch] = (float)(scale[ch] / Math.Sqrt(variance[ch] + epsilon));
            c[ch] = shift[ch] - a[ch] * mean[ch];
        }
        previous.FoldAffine(a, c);
    }

    private static ReshapeLayer ReadReshape(Context context, NodeProto node, string name, int[] shape)
    {
        if (node.Input.Count != 2) throw context.Shape(name, "Reshape takes a data input and a shape");
        long[] target = context.Longs(node.Input[1], name);
        int total = Shape.Length(shape);
        // Qtaml keeps row-major data; a reshape to [1, -1], [-1] or [1, N] (batch first) flattens.
        var rest = target.Length > 1 ? target.Skip(1).ToArray() : target;
        long known = 1;
        int unknown = 0;
        foreach (long d in rest)
        {
            if (d == -1) unknown++;
            else if (d > 0) known *= d;
            else throw context.Shape(name, "Reshape to " + string.Join(", ", target) + " is not supported");
        }
        if (unknown > 1 || (unknown == 0 && known != total) || (unknown == 1 && total % known != 0))
            throw context.Shape(name, "Reshape to [" + string.Join(", ", target) + "] does not fit " + total + " values");
        int[] result = rest.Select(d => d == -1 ? (int)(total / known) : (int)d).ToArray();
        return new ReshapeLayer(name, "Reshape", shape, result.Length == 0 ? new[] { total } : result);
    }

    private static ConvLayer ReadConv(Context context, NodeProto node, string name, int[] shape)
    {
        if (shape.Length != 3) throw context.Shape(name, "Conv needs a (channels, height, width) input but gets " + Shape.Format(shape));
        if (Context.Int(node, "group", 1) != 1) throw context.Shape(name, "grouped convolution (group > 1) is not supported");
        if (Context.Ints(node, "dilations").Any(d => d != 1)) throw context.Shape(name, "dilated convolution is not supported");
        string autoPad = Context.String(node, "auto_pad", "NOTSET");
        if (autoPad != "NOTSET" && autoPad != "VALID") throw context.Shape(name, "auto_pad = " + autoPad + " is not supported; export explicit pads");
        (int[] dims, float[] w) = context.Tensor(node.Input[1], name);
        if (dims.Length != 4 || dims[1] != shape[0])
            throw context.Shape(name, "the Conv weight has shape " + Shape.Format(dims) + " but the input has " + shape[0] + " channels");
        int outC = dims[0], kh = dims[2], kw = dims[3];
        (int sh, int sw) = Pair(context, node, name, "strides", 1);
        long[] pads = Context.Ints(node, "pads");
        if (pads.Length != 0 && pads.Length != 4) throw context.Shape(name, "Conv pads must have four values");
        int pt = pads.Length == 4 ? Checked(context, name, pads[0]) : 0, pl = pads.Length == 4 ? Checked(context, name, pads[1]) : 0;
        int pb = pads.Length == 4 ? Checked(context, name, pads[2]) : 0, pr = pads.Length == 4 ? Checked(context, name, pads[3]) : 0;
        int outH = (shape[1] + pt + pb - kh) / sh + 1, outW = (shape[2] + pl + pr - kw) / sw + 1;
        if (outH < 1 || outW < 1) throw context.Shape(name, "the Conv kernel is larger than its padded input");
        var bias = new float[outC];
        if (node.Input.Count > 2 && node.Input[2].Length > 0) bias = context.Vector(node.Input[2], name, outC);
        return new ConvLayer(name, shape, outC, kh, kw, sh, sw, pt, pl, outH, outW, w, bias);
    }

    private static PoolLayer ReadPool(Context context, NodeProto node, string name, int[] shape, PoolKind kind)
    {
        if (shape.Length != 3) throw context.Shape(name, node.OpType + " needs a (channels, height, width) input but gets " + Shape.Format(shape));
        if (Context.Int(node, "ceil_mode", 0) != 0) throw context.Shape(name, "ceil_mode = 1 is not supported");
        long[] kernel = Context.Ints(node, "kernel_shape");
        if (kernel.Length != 2) throw context.Shape(name, node.OpType + " needs a two-dimensional kernel_shape");
        int kh = Checked(context, name, kernel[0]), kw = Checked(context, name, kernel[1]);
        if (kh < 1 || kw < 1) throw context.Shape(name, "the pooling kernel must be positive");
        (int sh, int sw) = Pair(context, node, name, "strides", 1);
        long[] pads = Context.Ints(node, "pads");
        if (pads.Length != 0 && pads.Length != 4) throw context.Shape(name, node.OpType + " pads must have four values");
        int pt = pads.Length == 4 ? Checked(context, name, pads[0]) : 0, pl = pads.Length == 4 ? Checked(context, name, pads[1]) : 0;
        int pb = pads.Length == 4 ? Checked(context, name, pads[2]) : 0, pr = pads.Length == 4 ? Checked(context, name, pads[3]) : 0;
        int outH = (shape[1] + pt + pb - kh) / sh + 1, outW = (shape[2] + pl + pr - kw) / sw + 1;
        if (outH < 1 || outW < 1) throw context.Shape(name, "the pooling kernel is larger than its padded input");
        bool countIncludePad = Context.Int(node, "count_include_pad", 0) != 0;
        return new PoolLayer(name, kind, shape, kh, kw, sh, sw, pt, pl, outH, outW, countIncludePad);
    }

    private static (int, int) Pair(Context context, NodeProto node, string name, string attribute, int fallback)
    {
        long[] values = Context.Ints(node, attribute);
        if (values.Length == 0) return (fallback, fallback);
        if (values.Length != 2 || values[0] < 1 || values[1] < 1) throw context.Shape(name, attribute + " must hold two positive values");
        return (Checked(context, name, values[0]), Checked(context, name, values[1]));
    }

    private static int Checked(Context context, string name, long value)
    {
        if (value < 0 || value > 1 << 20) throw context.Shape(name, "an attribute value of " + value + " is out of range");
        return (int)value;
    }

    private static float[] Transpose(float[] w, int rows, int columns)
    {
        var t = new float[w.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                t[c * rows + r] = w[r * columns + c];
        return t;
    }

    /// <summary>Access to the graph's constants and node attributes, with the checks every read needs.</summary>
    private sealed class Context
    {
        private readonly Dictionary<string, TensorProto> _initializers;

        public Context(string path, Dictionary<string, TensorProto> initializers)
        {
            Path = path;
            _initializers = initializers;
        }

        public string Path { get; }

        public bool IsInitializer(string name) => _initializers.ContainsKey(name);

        public ModelReadException Shape(string node, string reason) => new(Diagnostics.ShapeMismatch, Path, node, reason);

        public (int[] Dims, float[] Values) Tensor(string tensorName, string node)
        {
            if (!_initializers.TryGetValue(tensorName, out TensorProto? tensor))
                throw Shape(node, "the weight '" + tensorName + "' is computed at run time; Qtaml needs it as a graph initializer");
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
            if (values.Any(v => float.IsNaN(v) || float.IsInfinity(v))) throw new ModelReadException(Diagnostics.NonFiniteWeights, Path, tensorName);
            return (dims, values);
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
            const int Int64Type = 7;
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

        private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

        public static long Int(NodeProto node, string name, long fallback) => Attribute(node, name) is { } a ? a.I : fallback;

        public static float Float(NodeProto node, string name, float fallback) => Attribute(node, name) is { } a ? a.F : fallback;

        public static long[] Ints(NodeProto node, string name) => Attribute(node, name) is { } a ? a.Ints.ToArray() : Array.Empty<long>();

        public static string String(NodeProto node, string name, string fallback) => Attribute(node, name) is { } a ? a.S.ToStringUtf8() : fallback;
    }
}
