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
        var network = new NetworkBuilder(path, inputShape);
        string current = input.Name;
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

            ReadNode(context, node, nodeName, network);
            current = node.Output[0];
        }
        return network.Build();
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

    private static void ReadNode(Context context, NodeProto node, string name, NetworkBuilder network)
    {
        switch (node.OpType)
        {
            case "Gemm": ReadGemm(context, node, name, network); break;
            case "MatMul": ReadMatMul(context, node, name, network); break;
            case "Add": FoldBiasAdd(context, node, name, network); break;
            case "Relu": network.Relu(name); break;
            case "Softmax": network.Softmax(name); break;
            case "Flatten":
            {
                long axis = Context.Int(node, "axis", 1);
                if (axis != 1) throw network.Mismatch(name, "Flatten with axis " + axis + " is not supported; Qtaml flattens everything after the batch dimension (axis 1)");
                network.Flatten(name);
                break;
            }
            case "Reshape": ReadReshape(context, node, name, network); break;
            case "Identity":
            case "Dropout":
                break;   // inference-time no-ops
            case "Conv": ReadConv(context, node, name, network); break;
            case "MaxPool": ReadPool(context, node, name, network, PoolKind.Max); break;
            case "AveragePool": ReadPool(context, node, name, network, PoolKind.Average); break;
            case "BatchNormalization":
            {
                if (node.Input.Count < 5) throw network.Mismatch(name, "BatchNormalization needs scale, bias, mean and variance");
                int channels = network.PreviousWeightLayer(name, "BatchNormalization").Channels;
                network.FoldBatchNormalization(name,
                    context.Vector(node.Input[1], name, channels), context.Vector(node.Input[2], name, channels),
                    context.Vector(node.Input[3], name, channels), context.Vector(node.Input[4], name, channels),
                    Context.Float(node, "epsilon", 1e-5f));
                break;
            }
            default:
                throw new ModelReadException(Diagnostics.UnsupportedOperator, context.Path, node.OpType, name);
        }
    }

    private static void ReadGemm(Context context, NodeProto node, string name, NetworkBuilder network)
    {
        if (node.Input.Count < 2) throw network.Mismatch(name, "Gemm needs a weight input");
        if (Context.Int(node, "transA", 0) != 0) throw network.Mismatch(name, "Gemm with transA = 1 is not supported");
        float alpha = Context.Float(node, "alpha", 1f), beta = Context.Float(node, "beta", 1f);
        bool transB = Context.Int(node, "transB", 0) != 0;
        (int[] dims, float[] w) = context.Tensor(node.Input[1], name);
        if (dims.Length != 2) throw network.Mismatch(name, "the Gemm weight has shape " + Shape.Format(dims) + "; a matrix is needed");
        int inputs = transB ? dims[1] : dims[0], outputs = transB ? dims[0] : dims[1];
        float[] weights = transB ? w : Transpose(w, dims[0], dims[1]);
        for (int i = 0; i < weights.Length; i++) weights[i] *= alpha;
        float[]? bias = null;
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            (int[] bDims, float[] b) = context.Tensor(node.Input[2], name);
            if (b.Length == outputs) bias = b.Select(v => beta * v).ToArray();
            else if (b.Length == 1) bias = Enumerable.Repeat(beta * b[0], outputs).ToArray();
            else throw network.Mismatch(name, "the Gemm bias has shape " + Shape.Format(bDims) + " but there are " + outputs + " outputs");
        }
        network.Dense(name, "Gemm", weights, outputs, inputs, bias);
    }

    private static void ReadMatMul(Context context, NodeProto node, string name, NetworkBuilder network)
    {
        if (node.Input.Count != 2) throw network.Mismatch(name, "MatMul takes two inputs");
        (int[] dims, float[] w) = context.Tensor(node.Input[1], name);
        if (dims.Length != 2) throw network.Mismatch(name, "the MatMul weight has shape " + Shape.Format(dims) + "; a matrix is needed");
        network.Dense(name, "MatMul", Transpose(w, dims[0], dims[1]), dims[1], dims[0], null);
    }

    private static void FoldBiasAdd(Context context, NodeProto node, string name, NetworkBuilder network)
    {
        if (node.Input.Count != 2) throw network.Mismatch(name, "Add takes two inputs");
        string biasName = context.IsInitializer(node.Input[1]) ? node.Input[1] : node.Input[0];
        if (!context.IsInitializer(biasName))
            throw network.Mismatch(name, "Add of two computed tensors (a residual connection) is not supported yet");
        WeightLayer previous = network.PreviousWeightLayer(name, "an Add of a constant (a bias)");
        (int[] dims, float[] b) = context.Tensor(biasName, name);
        var ones = Enumerable.Repeat(1f, previous.Channels).ToArray();
        if (b.Length == previous.Channels) previous.FoldAffine(ones, b);
        else if (b.Length == 1) previous.FoldAffine(ones, Enumerable.Repeat(b[0], previous.Channels).ToArray());
        else throw network.Mismatch(name, "the added constant has shape " + Shape.Format(dims) + " but the previous layer has " + previous.Channels + " channels");
    }

    private static void ReadReshape(Context context, NodeProto node, string name, NetworkBuilder network)
    {
        if (node.Input.Count != 2) throw network.Mismatch(name, "Reshape takes a data input and a shape");
        long[] target = context.Longs(node.Input[1], name);
        int total = Shape.Length(network.Shape);
        // The first entry is the batch; the rest may hold one -1 for "whatever is left".
        long[] rest = target.Length > 1 ? target.Skip(1).ToArray() : target;
        long known = 1;
        int unknown = 0;
        foreach (long d in rest)
        {
            if (d == -1) unknown++;
            else if (d > 0) known *= d;
            else throw network.Mismatch(name, "Reshape to [" + string.Join(", ", target) + "] is not supported");
        }
        if (unknown > 1 || (unknown == 0 && known != total) || (unknown == 1 && total % known != 0))
            throw network.Mismatch(name, "Reshape to [" + string.Join(", ", target) + "] does not fit " + total + " values");
        int[] result = rest.Select(d => d == -1 ? (int)(total / known) : (int)d).ToArray();
        network.Reshape(name, result.Length == 0 ? new[] { total } : result);
    }

    private static void ReadConv(Context context, NodeProto node, string name, NetworkBuilder network)
    {
        if (Context.Int(node, "group", 1) != 1) throw network.Mismatch(name, "grouped convolution (group > 1) is not supported");
        if (Context.Ints(node, "dilations").Any(d => d != 1)) throw network.Mismatch(name, "dilated convolution is not supported");
        string autoPad = Context.String(node, "auto_pad", "NOTSET");
        if (autoPad != "NOTSET" && autoPad != "VALID") throw network.Mismatch(name, "auto_pad = " + autoPad + " is not supported; export explicit pads");
        if (node.Input.Count < 2) throw network.Mismatch(name, "Conv needs a weight input");
        (int[] dims, float[] w) = context.Tensor(node.Input[1], name);
        (int sh, int sw) = Pair(node, name, network, "strides");
        float[]? bias = node.Input.Count > 2 && node.Input[2].Length > 0 ? context.Tensor(node.Input[2], name).Values : null;
        network.Conv(name, w, dims, bias, sh, sw, Pads(node, name, network));
    }

    private static void ReadPool(Context context, NodeProto node, string name, NetworkBuilder network, PoolKind kind)
    {
        if (Context.Int(node, "ceil_mode", 0) != 0) throw network.Mismatch(name, "ceil_mode = 1 is not supported");
        long[] kernel = Context.Ints(node, "kernel_shape");
        if (kernel.Length != 2 || kernel.Any(k => k < 1 || k > 1 << 16)) throw network.Mismatch(name, node.OpType + " needs a two-dimensional positive kernel_shape");
        (int sh, int sw) = Pair(node, name, network, "strides");
        network.Pool(name, kind, (int)kernel[0], (int)kernel[1], sh, sw, Pads(node, name, network), Context.Int(node, "count_include_pad", 0) != 0);
    }

    private static int[] Pads(NodeProto node, string name, NetworkBuilder network)
    {
        long[] pads = Context.Ints(node, "pads");
        if (pads.Length == 0) return new int[4];
        if (pads.Length != 4 || pads.Any(p => p < 0 || p > 1 << 16)) throw network.Mismatch(name, node.OpType + " pads must be four values between 0 and 65536");
        return pads.Select(p => (int)p).ToArray();
    }

    private static (int, int) Pair(NodeProto node, string name, NetworkBuilder network, string attribute)
    {
        long[] values = Context.Ints(node, attribute);
        if (values.Length == 0) return (1, 1);
        if (values.Length != 2 || values.Any(v => v < 1 || v > 1 << 16)) throw network.Mismatch(name, attribute + " must hold two positive values");
        return ((int)values[0], (int)values[1]);
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

        private ModelReadException Shape(string node, string reason) => new(Diagnostics.ShapeMismatch, Path, node, reason);

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
