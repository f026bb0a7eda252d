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

        // How often each tensor is read: a bias Add folds into its weight layer only if nothing else reads the product.
        var uses = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string name in graph.Node.SelectMany(n => n.Input).Concat(graph.Output.Select(o => o.Name)))
            uses[name] = uses.TryGetValue(name, out int n) ? n + 1 : 1;

        var reading = new Reading(new Context(path, initializers), new NetworkBuilder(path, inputShape), uses);
        reading.Values[input.Name] = 0;
        reading.HasBatch.Add(true);
        foreach (NodeProto node in graph.Node)
        {
            string nodeName = string.IsNullOrEmpty(node.Name) ? node.OpType : node.Name;
            if (node.Output.Count < 1) throw new ModelReadException(Diagnostics.MalformedFile, path, "node '" + nodeName + "' has no output");
            if (node.OpType == "Constant")
            {
                initializers[node.Output[0]] = ConstantValue(path, node, nodeName);
                continue;
            }
            int before = reading.Network.LayerCount;
            int value = ReadNode(reading, node, nodeName);
            // Layers this node added carry the batch axis if any value they read does.
            Layer[] layers = reading.Network.Build().Layers;
            for (int i = before; i < layers.Length; i++)
                reading.HasBatch.Add(layers[i].Inputs.Any(v => reading.HasBatch[v]));
            reading.Values[node.Output[0]] = value;
        }

        string outputName = graph.Output.Count > 0 ? graph.Output[0].Name : graph.Node[graph.Node.Count - 1].Output[0];
        if (!reading.Values.TryGetValue(outputName, out int output))
            throw new ModelReadException(Diagnostics.ShapeMismatch, path, outputName, "the graph's output is not computed by any node");
        return reading.Network.Build(output);
    }

    /// <summary>The state of one read: the builder, which ONNX tensor is which value, and which values carry the batch axis.</summary>
    private sealed class Reading
    {
        public Reading(Context context, NetworkBuilder network, Dictionary<string, int> uses)
        {
            Context = context;
            Network = network;
            Uses = uses;
        }

        public Context Context { get; }
        public NetworkBuilder Network { get; }
        public Dictionary<string, int> Uses { get; }
        public Dictionary<string, int> Values { get; } = new(StringComparer.Ordinal);

        /// <summary>Per value: whether its ONNX shape has the batch axis in front (ours never does).</summary>
        public List<bool> HasBatch { get; } = new();

        /// <summary>Points the builder at the node's data input <paramref name="index"/> and returns that value.</summary>
        public int Data(NodeProto node, string name, int index = 0)
        {
            if (node.Input.Count <= index) throw Network.Mismatch(name, node.OpType + " is missing its input " + (index + 1));
            string tensor = node.Input[index];
            if (!Values.TryGetValue(tensor, out int value))
                throw Network.Mismatch(name, Context.IsInitializer(tensor)
                    ? "its input '" + tensor + "' is a constant where Qtaml needs a computed value"
                    : "its input '" + tensor + "' is not computed by any earlier node");
            Network.Current = value;
            return value;
        }

        public bool IsValue(string tensor) => Values.ContainsKey(tensor);

        /// <summary>An input as a value or a float constant (leading unit axes of a constant dropped, as the batch is).</summary>
        public Operand Operand(NodeProto node, string name, int index)
        {
            string tensor = node.Input[index];
            if (Values.TryGetValue(tensor, out int value)) return Network.ValueOperand(value);
            (int[] dims, float[] values) = Context.Tensor(tensor, name);
            return Generators.Network.Operand.OfConstant(values, dims.SkipWhile(d => d == 1).ToArray());
        }

        /// <summary>An ONNX axis of a value as our axis: negative axes count from the end, the batch axis is not there.</summary>
        public int Axis(int value, long axis, string name, string what)
        {
            int rank = Network.ShapeOf(value).Length;
            int onnxRank = rank + (HasBatch[value] ? 1 : 0);
            long positive = axis < 0 ? axis + onnxRank : axis;
            if (positive < 0 || positive >= onnxRank) throw Network.Mismatch(name, what + " axis " + axis + " is outside the tensor's " + onnxRank + " axes");
            if (HasBatch[value] && positive == 0) throw Network.Mismatch(name, what + " over the batch axis is not supported; Qtaml compiles batch 1");
            return (int)positive - (HasBatch[value] ? 1 : 0);
        }
    }

    private static TensorProto ConstantValue(string path, NodeProto node, string name)
    {
        AttributeProto? value = node.Attribute.FirstOrDefault(a => a.Name == "value");
        if (value?.T is null) throw new ModelReadException(Diagnostics.ShapeMismatch, path, name, "Qtaml reads Constant nodes with a 'value' tensor only");
        TensorProto tensor = value.T.Clone();
        tensor.Name = node.Output[0];
        return tensor;
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

    /// <summary>Translates one node and returns the value that holds its output.</summary>
    private static int ReadNode(Reading r, NodeProto node, string name)
    {
        NetworkBuilder network = r.Network;
        Context context = r.Context;
        switch (node.OpType)
        {
            case "Gemm": r.Data(node, name); ReadGemm(context, node, name, network); break;
            case "MatMul":
                if (node.Input.Count != 2) throw network.Mismatch(name, "MatMul takes two inputs");
                if (r.IsValue(node.Input[1])) return network.MatMul(name, r.Data(node, name), r.Data(node, name, 1));
                r.Data(node, name);
                ReadMatMul(context, node, name, network);
                break;
            case "Add": return ReadAdd(r, node, name);
            case "Sub": return ReadBinary(r, node, name, BinaryKind.Sub);
            case "Mul": return ReadBinary(r, node, name, BinaryKind.Mul);
            case "Div": return ReadBinary(r, node, name, BinaryKind.Div);
            case "Pow": return ReadBinary(r, node, name, BinaryKind.Pow);
            case "Relu": r.Data(node, name); network.Relu(name); break;
            case "Erf": return Unary(r, node, name, UnaryKind.Erf);
            case "Sqrt": return Unary(r, node, name, UnaryKind.Sqrt);
            case "Tanh": return Unary(r, node, name, UnaryKind.Tanh);
            case "Sigmoid": return Unary(r, node, name, UnaryKind.Sigmoid);
            case "Exp": return Unary(r, node, name, UnaryKind.Exp);
            case "Neg": return Unary(r, node, name, UnaryKind.Neg);
            case "Abs": return Unary(r, node, name, UnaryKind.Abs);
            case "Reciprocal": return Unary(r, node, name, UnaryKind.Reciprocal);
            case "Gelu":
                if (Context.String(node, "approximate", "none") != "none") throw network.Mismatch(name, "Gelu with approximate = tanh is not supported; export the exact (erf) GELU");
                return Unary(r, node, name, UnaryKind.Gelu);
            case "Softmax":
            {
                int value = r.Data(node, name);
                int axis = r.Axis(value, Context.Int(node, "axis", -1), name, "Softmax");
                if (axis != network.Shape.Length - 1) throw network.Mismatch(name, "Softmax is supported over the last axis only");
                network.Softmax(name);
                break;
            }
            case "LayerNormalization":
            {
                int value = r.Data(node, name);
                int axis = r.Axis(value, Context.Int(node, "axis", -1), name, "LayerNormalization");
                if (axis != network.Shape.Length - 1) throw network.Mismatch(name, "LayerNormalization is supported over the last axis only");
                if (node.Output.Count > 1 && node.Output.Skip(1).Any(o => o.Length > 0)) throw network.Mismatch(name, "LayerNormalization's mean and inverse deviation outputs are training-only; drop them");
                int length = network.Shape[network.Shape.Length - 1];
                if (node.Input.Count < 2) throw network.Mismatch(name, "LayerNormalization needs a scale");
                float[]? beta = node.Input.Count > 2 && node.Input[2].Length > 0 ? context.Vector(node.Input[2], name, length) : null;
                return network.LayerNorm(name, context.Vector(node.Input[1], name, length), beta, Context.Float(node, "epsilon", 1e-5f));
            }
            case "Transpose":
            {
                int value = r.Data(node, name);
                long[] perm = Context.Ints(node, "perm");
                int rank = network.Shape.Length, onnxRank = rank + (r.HasBatch[value] ? 1 : 0);
                if (perm.Length == 0) perm = Enumerable.Range(0, onnxRank).Reverse().Select(i => (long)i).ToArray();
                if (perm.Length != onnxRank) throw network.Mismatch(name, "Transpose perm [" + string.Join(", ", perm) + "] does not fit a rank-" + onnxRank + " tensor");
                if (r.HasBatch[value])
                {
                    if (perm[0] != 0) throw network.Mismatch(name, "Transpose moves the batch axis; Qtaml compiles batch 1 and needs it first");
                    perm = perm.Skip(1).Select(p => p - 1).ToArray();
                }
                return network.Transpose(name, perm.Select(p => p < 0 || p >= rank ? -1 : (int)p).ToArray());
            }
            case "ReduceMean":
            {
                int value = r.Data(node, name);
                long[] axes = node.Input.Count > 1 && node.Input[1].Length > 0 ? context.Longs(node.Input[1], name) : Context.Ints(node, "axes");
                if (axes.Length != 1) throw network.Mismatch(name, "ReduceMean over " + (axes.Length == 0 ? "all axes" : axes.Length + " axes") + " is not supported; reduce one axis");
                return network.ReduceMean(name, r.Axis(value, axes[0], name, "ReduceMean"), Context.Int(node, "keepdims", 1) != 0);
            }
            case "Concat":
            {
                Operand[] parts = Enumerable.Range(0, node.Input.Count).Select(i => r.Operand(node, name, i)).ToArray();
                Operand first = parts.FirstOrDefault(p => !p.IsConstant) ?? throw network.Mismatch(name, "Concat of constants only; fold it when exporting");
                // A constant part (a class token [1, 1, D]) has the values' rank once its batch axis is gone.
                int rank = first.Shape.Length;
                parts = parts.Select(p => !p.IsConstant || p.Shape.Length == rank ? p
                    : p.Shape.Length < rank ? Operand.OfConstant(p.Constant!, Enumerable.Repeat(1, rank - p.Shape.Length).Concat(p.Shape).ToArray())
                    : throw network.Mismatch(name, "a Concat constant has more axes than the values it joins")).ToArray();
                int axis = r.Axis(first.Value, Context.Int(node, "axis", 0), name, "Concat");
                return network.Concat(name, parts, axis);
            }
            case "Gather":
            {
                if (node.Input.Count != 2) throw network.Mismatch(name, "Gather takes a table and indices");
                if (Context.Int(node, "axis", 0) != 0) throw network.Mismatch(name, "Gather is supported on axis 0 (rows of an embedding table)");
                if (r.IsValue(node.Input[0]) || r.IsValue(node.Input[1]))
                    throw network.Mismatch(name, "Gather is supported as an embedding: a constant table and constant indices (positions); indices computed at run time are not");
                (int[] dims, float[] table) = context.Tensor(node.Input[0], name);
                (int[] indexShape, long[] indices) = context.Indices(node.Input[1], name);
                return network.Embedding(name, table, dims, indices, indexShape);
            }
            case "Flatten":
            {
                r.Data(node, name);
                long axis = Context.Int(node, "axis", 1);
                if (axis != 1) throw network.Mismatch(name, "Flatten with axis " + axis + " is not supported; Qtaml flattens everything after the batch dimension (axis 1)");
                network.Flatten(name);
                break;
            }
            case "Reshape": ReadReshape(r, context, node, name, network); break;
            case "Identity":
            case "Dropout":
                return r.Data(node, name);   // inference-time no-ops: the output is the input
            case "Conv": r.Data(node, name); ReadConv(context, node, name, network); break;
            case "MaxPool": r.Data(node, name); ReadPool(context, node, name, network, PoolKind.Max); break;
            case "AveragePool": r.Data(node, name); ReadPool(context, node, name, network, PoolKind.Average); break;
            case "BatchNormalization":
            {
                r.Data(node, name);
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
        return network.Current;
    }

    private static int Unary(Reading r, NodeProto node, string name, UnaryKind kind)
    {
        r.Data(node, name);
        return r.Network.Unary(name, kind);
    }

    private static int ReadBinary(Reading r, NodeProto node, string name, BinaryKind kind)
    {
        if (node.Input.Count != 2) throw r.Network.Mismatch(name, node.OpType + " takes two inputs");
        return r.Network.Binary(name, kind, r.Operand(node, name, 0), r.Operand(node, name, 1));
    }

    /// <summary>
    /// An Add of a constant to the product of a Conv or dense layer that nothing else reads is that layer's bias,
    /// folded into it; any other Add (a residual connection, a broadcast constant) is computed.
    /// </summary>
    private static int ReadAdd(Reading r, NodeProto node, string name)
    {
        if (node.Input.Count != 2) throw r.Network.Mismatch(name, "Add takes two inputs");
        Operand left = r.Operand(node, name, 0), right = r.Operand(node, name, 1);
        (Operand data, Operand constant, string dataName) = left.IsConstant ? (right, left, node.Input[1]) : (left, right, node.Input[0]);
        if (constant.IsConstant && !data.IsConstant && r.Uses.TryGetValue(dataName, out int uses) && uses == 1
            && r.Network.Producer(data.Value) is WeightLayer producer and not EmbeddingLayer && IsBias(producer, constant))
        {
            r.Network.Current = data.Value;
            float[] b = constant.Constant!;
            var ones = Enumerable.Repeat(1f, producer.Channels).ToArray();
            producer.FoldAffine(ones, b.Length == 1 ? Enumerable.Repeat(b[0], producer.Channels).ToArray() : b);
            return data.Value;
        }
        return r.Network.Binary(name, BinaryKind.Add, left, right);
    }

    /// <summary>Whether a constant adds one value per output channel: [C] after a dense layer, [C, 1, 1] after a Conv, or a scalar.</summary>
    private static bool IsBias(WeightLayer layer, Operand constant) => constant.Length == 1
        || (layer is DenseLayer && constant.Shape.Length == 1 && constant.Shape[0] == layer.Channels)
        || (layer is ConvLayer && constant.Shape.Length == 3 && constant.Shape[0] == layer.Channels && constant.Shape[1] == 1 && constant.Shape[2] == 1)
        || (layer is ConvLayer && constant.Shape.Length == 1 && constant.Shape[0] == layer.Channels && layer.OutputShape[2] == 1 && layer.OutputShape[1] == 1);

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

    private static void ReadReshape(Reading r, Context context, NodeProto node, string name, NetworkBuilder network)
    {
        if (node.Input.Count != 2) throw network.Mismatch(name, "Reshape takes a data input and a shape");
        int value = r.Data(node, name);
        long[] target = context.Longs(node.Input[1], name);
        int total = Shape.Length(network.Shape);
        // With the batch axis, the first entry is the batch; the rest may hold one -1 for "whatever is left".
        long[] rest = target.Length > 1 && r.HasBatch[value] ? target.Skip(1).ToArray() : target;
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

        /// <summary>An int64 or int32 index tensor and its shape.</summary>
        public (int[] Dims, long[] Values) Indices(string tensorName, string node)
        {
            if (!_initializers.TryGetValue(tensorName, out TensorProto? tensor))
                throw Shape(node, "the indices '" + tensorName + "' are computed at run time; Qtaml needs them as a graph initializer");
            const int Int32Type = 6, Int64Type = 7;
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

        private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

        public static long Int(NodeProto node, string name, long fallback) => Attribute(node, name) is { } a ? a.I : fallback;

        public static float Float(NodeProto node, string name, float fallback) => Attribute(node, name) is { } a ? a.F : fallback;

        public static long[] Ints(NodeProto node, string name) => Attribute(node, name) is { } a ? a.Ints.ToArray() : Array.Empty<long>();

        public static string String(NodeProto node, string name, string fallback) => Attribute(node, name) is { } a ? a.S.ToStringUtf8() : fallback;
    }
}
