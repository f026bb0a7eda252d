using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Google.Protobuf;
using Qtaml.Generators.Model;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// Reads an ONNX model into a <see cref="NetworkGraph"/>. The file is untrusted: every length, shape and
/// attribute is checked before it is used, and nothing is allocated from a size the file merely claims
/// (protobuf itself only allocates what the bytes contain).
/// </summary>
internal static partial class OnnxReader
{
    /// <summary>The most elements a single tensor may hold (the baked route's limit is lower still).</summary>
    private const long MaxTensorElements = 256L * 1024 * 1024;

    private const int FloatType = 1;
    private const int Int64Type = 7;
    private const int Int32Type = 6;
    private const int DoubleType = 11;

    public static NetworkGraph Read(string path, byte[] bytes) => Read(path, bytes, InputPins.None);

    public static NetworkGraph Read(string path, byte[] bytes, InputPins pins)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(InvalidUtf8Strings.Escape(bytes));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelReadException(Diagnostics.MalformedFile, path, "it is not a valid ONNX protobuf (" + e.Message + ")");
        }
        GraphProto graph = model.Graph ?? throw new ModelReadException(Diagnostics.MalformedFile, path, "the model has no graph");
        if (graph.Node.Count == 0) throw new ModelReadException(Diagnostics.MalformedFile, path, "the graph has no nodes");
        int opset = DefaultOpset(path, model);

        // Every name is defined once: as a graph input, an initializer or a node output (ONNX's single assignment).
        var initializers = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        var defined = new HashSet<string>(StringComparer.Ordinal);
        // A sparse initializer is the dense tensor it stands for.
        foreach (TensorProto tensor in graph.Initializer.Concat(graph.SparseInitializer.Select(sparse => SparseInitializers.Densify(path, sparse))))
        {
            if (!initializers.ContainsKey(tensor.Name)) initializers.Add(tensor.Name, tensor);
            else throw new ModelReadException(Diagnostics.MalformedFile, path, "the initializer '" + tensor.Name + "' is defined twice");
            defined.Add(tensor.Name);
        }
        foreach (ValueInfoProto graphInput in graph.Input)
            if (!initializers.ContainsKey(graphInput.Name) && !defined.Add(graphInput.Name))
                throw new ModelReadException(Diagnostics.MalformedFile, path, "the graph input '" + graphInput.Name + "' is declared twice");

        ValueInfoProto[] declared = graph.Input.Where(i => !initializers.ContainsKey(i.Name)).ToArray();
        CheckPinnedNames(path, declared, pins);
        foreach (ValueInfoProto constant in declared.Where(i => pins.Constants.ContainsKey(i.Name)))
            initializers[constant.Name] = ConstantInput(path, constant, pins);
        ValueInfoProto[] dataInputs = declared.Where(i => !pins.Constants.ContainsKey(i.Name)).ToArray();
        if (dataInputs.Length == 0) throw new ModelReadException(Diagnostics.MalformedFile, path, "the graph declares no data input" + (declared.Length > 0 ? " besides its constant inputs" : ""));
        if (pins.Unnamed is not null && dataInputs.Length > 1)
            throw new ModelReadException(Diagnostics.InvalidInputPin, "InputShape", string.Join(",", pins.Unnamed), "the model has " + dataInputs.Length + " inputs (" + string.Join(", ", dataInputs.Select(i => "'" + i.Name + "'")) + "); name the input each shape is for");
        if (dataInputs.Length > MaxPorts)
            throw new ModelReadException(Diagnostics.ShapeMismatch, path, dataInputs[MaxPorts].Name, "the graph has " + dataInputs.Length + " data inputs; Qtaml compiles models with up to " + MaxPorts);
        if (graph.Output.Count > MaxPorts)
            throw new ModelReadException(Diagnostics.ShapeMismatch, path, graph.Output[MaxPorts].Name, "the graph has " + graph.Output.Count + " outputs; Qtaml compiles models with up to " + MaxPorts);
        int[][] inputShapes = dataInputs.Select(i => ReadInputShape(path, i, pins.Unnamed ?? (pins.Shapes.TryGetValue(i.Name, out long[]? pin) ? pin : null))).ToArray();

        // How often each tensor is read: a bias Add or a batch normalization folds into its weight layer only if nothing else reads the product.
        var uses = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string name in AllNodes(path, graph, 0).SelectMany(n => n.Input).Concat(graph.Output.Select(o => o.Name)))
            uses[name] = uses.TryGetValue(name, out int n) ? n + 1 : 1;

        CheckOperatorsKnown(path, graph);
        CheckIntegerInputsAreIndices(path, graph, dataInputs);
        var reading = new Reading(new Context(path, initializers), new NetworkBuilder(path, inputShapes[0]), uses, opset, initializers);
        reading.Values[dataInputs[0].Name] = 0;
        reading.IntegerInputs.UnionWith(dataInputs.Where(i => i.Type!.TensorType!.ElemType is Int64Type or Int32Type).Select(i => i.Name));
        for (int k = 1; k < dataInputs.Length; k++)
            reading.Values[dataInputs[k].Name] = reading.Network.GraphInput(dataInputs[k].Name, k, inputShapes[k]);
        reading.Defined.UnionWith(defined);
        ReadNodes(reading, graph.Node);

        string[] outputNames = graph.Output.Count > 0 ? graph.Output.Select(o => o.Name).ToArray() : new[] { graph.Node[graph.Node.Count - 1].Output[0] };
        var outputs = new GraphPort[outputNames.Length];
        for (int k = 0; k < outputs.Length; k++)
        {
            if (!reading.Values.TryGetValue(outputNames[k], out int output))
                throw new ModelReadException(Diagnostics.ShapeMismatch, path, outputNames[k], "the graph's output is not computed by any node" + (initializers.ContainsKey(outputNames[k]) ? " (it is a constant)" : ""));
            outputs[k] = new GraphPort(outputNames[k], output);
        }
        GraphPort[] inputs = dataInputs.Select(i => new GraphPort(i.Name, reading.Values[i.Name])).ToArray();
        string[] float64 = dataInputs.Concat(graph.Output).Where(p => p.Type?.TensorType?.ElemType == DoubleType).Select(p => p.Name).ToArray();
        return reading.Network.Build(inputs, outputs, float64);
    }

    /// <summary>
    /// The data inputs and the outputs a model declares (what a compiled class would name its Run's parameters after),
    /// read without compiling anything; null when the file is not even a graph, or declares more ports than compile.
    /// </summary>
    public static (string[] Inputs, string[] Outputs)? DeclaredPorts(byte[] bytes, InputPins pins)
    {
        try
        {
            GraphProto? graph = ModelProto.Parser.ParseFrom(InvalidUtf8Strings.Escape(bytes)).Graph;
            if (graph is null || graph.Node.Count == 0) return null;
            var initializers = new HashSet<string>(graph.Initializer.Select(t => t.Name), StringComparer.Ordinal);
            string[] inputs = graph.Input.Select(i => i.Name).Where(n => !initializers.Contains(n) && !pins.Constants.ContainsKey(n)).Distinct(StringComparer.Ordinal).ToArray();
            string[] outputs = graph.Output.Count > 0 ? graph.Output.Select(o => o.Name).ToArray() : graph.Node[graph.Node.Count - 1].Output.Take(1).ToArray();
            return inputs.Length is 0 or > MaxPorts || outputs.Length is 0 or > MaxPorts ? null : (inputs, outputs);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    /// <summary>The most graph inputs, and outputs, one model may have (each is a parameter of the generated Run).</summary>
    private const int MaxPorts = 16;

    /// <summary>The opset of the default domain, which decides what each operator means; one the reader does not know is a diagnostic.</summary>
    private static int DefaultOpset(string path, ModelProto model)
    {
        long? version = null;
        foreach (OperatorSetIdProto import in model.OpsetImport)
        {
            if (!IsDefaultDomain(import.Domain)) continue;
            if (version is not null && version != import.Version)
                throw new ModelReadException(Diagnostics.MalformedFile, path, "it imports the default operator set twice, as opsets " + version + " and " + import.Version);
            version = import.Version;
        }
        if (version is null) throw new ModelReadException(Diagnostics.MalformedFile, path, "it imports no opset of the default ONNX domain (opset_import)");
        if (version < OperatorSchemas.MinOpset || version > OperatorSchemas.MaxOpset)
            throw new ModelReadException(Diagnostics.UnsupportedOpset, path, version.Value, OperatorSchemas.MinOpset, OperatorSchemas.MaxOpset);
        return (int)version.Value;
    }

    private static bool IsDefaultDomain(string domain) => domain.Length == 0 || domain == "ai.onnx";

    /// <summary>
    /// Reads nodes in order into the network: a Constant becomes an initializer, a node whose inputs are all known
    /// at build time is folded, any other adds layers. Used for the graph and for the branches of an If.
    /// </summary>
    private static void ReadNodes(Reading reading, IEnumerable<NodeProto> nodes)
    {
        string path = reading.Context.Path;
        // What is defined so far (graph inputs, initializers, the outer graph's values for a branch) is available to sort by.
        foreach (NodeProto node in NodeOrder.Sorted(nodes as IList<NodeProto> ?? nodes.ToList(), reading.Defined))
        {
            string nodeName = NodeName(node);
            OperatorSchema schema = CheckNode(reading, node, nodeName);
            foreach (string written in node.Output)
                if (written.Length > 0 && !reading.Defined.Add(written))
                    throw new ModelReadException(Diagnostics.MalformedFile, path, "the value '" + written + "' is defined twice (node '" + nodeName + "' writes it again)");
            NodeAttributes attributes = NodeAttributes.Check(path, node, nodeName, schema, reading.Opset);
            if (node.OpType == "Constant")
            {
                reading.Initializers[node.Output[0]] = ConstantValue(path, node, nodeName, attributes);
                continue;
            }
            ConstantTensor? folded = ConstantFolding.TryFold(path, node, nodeName, attributes, reading.Opset, reading.Constant, reading.OnnxShape);
            if (folded is not null)
            {
                reading.Initializers[node.Output[0]] = folded.Encode(node.Output[0]);
                continue;
            }
            int value = ReadNode(reading, node, nodeName, attributes);
            if (value < 0) continue;   // the node registered its outputs itself (an If)
            reading.Values[node.Output[0]] = value;
        }
    }

    /// <summary>The deepest nesting of If branches read.</summary>
    private const int MaxBranchDepth = 32;

    /// <summary>The graph's nodes and, depth first, those of its If branches.</summary>
    private static IEnumerable<NodeProto> AllNodes(string path, GraphProto graph, int depth)
    {
        if (depth > MaxBranchDepth) throw new ModelReadException(Diagnostics.ShapeMismatch, path, graph.Name, "If branches nest deeper than " + MaxBranchDepth + " levels");
        foreach (NodeProto node in graph.Node)
        {
            yield return node;
            foreach (AttributeProto attribute in node.Attribute)
                if (attribute.G is not null)
                    foreach (NodeProto inner in AllNodes(path, attribute.G, depth + 1)) yield return inner;
        }
    }

    /// <summary>Every node's operator is one Qtaml compiles; if not, one diagnostic lists all that are not, with their nodes.</summary>
    private static void CheckOperatorsKnown(string path, GraphProto graph)
    {
        var unknown = AllNodes(path, graph, 0).Where(n => !IsDefaultDomain(n.Domain) || !OperatorSchemas.TryGet(n.OpType, out _))
            .Select(n => (Qualified(n), NodeName(n))).ToList();
        if (unknown.Count > 0) throw UnsupportedOperators.Exception(path, unknown, OperatorSchemas.SupportedList);
    }

    /// <summary>A node the file gets wrong: QTAML002 naming the node and its operator.</summary>
    private static ModelReadException Malformed(Reading r, string name, string op, string what) =>
        new(Diagnostics.MalformedFile, r.Context.Path, "node '" + name + "' (" + op + ") " + what);

    /// <summary>How diagnostics name a node: its name, or its operator when the file leaves it unnamed.</summary>
    private static string NodeName(NodeProto node) => string.IsNullOrEmpty(node.Name) ? node.OpType : node.Name;

    /// <summary>An operator's name, with its domain when it is not the default one (com.microsoft.FusedGemm).</summary>
    private static string Qualified(NodeProto node) => IsDefaultDomain(node.Domain) ? node.OpType : node.Domain + "." + node.OpType;

    /// <summary>The node's operator is one Qtaml knows at this opset, with a fitting number of inputs, and no output beyond those it computes is read.</summary>
    private static OperatorSchema CheckNode(Reading r, NodeProto node, string name)
    {
        string path = r.Context.Path;
        if (!IsDefaultDomain(node.Domain) || !OperatorSchemas.TryGet(node.OpType, out OperatorSchema schema))
            throw UnsupportedOperators.Exception(path, new[] { (Qualified(node), name) }, OperatorSchemas.SupportedList);
        if (r.Opset < schema.SinceOpset)
            throw new ModelReadException(Diagnostics.MalformedFile, path, "node '" + name + "' uses " + node.OpType + ", which ONNX defines from opset " + schema.SinceOpset + ", but the file imports opset " + r.Opset);
        if (node.Input.Count < schema.MinInputs || node.Input.Count > schema.MaxInputs)
            throw new ModelReadException(Diagnostics.MalformedFile, path, "node '" + name + "' gives " + node.OpType + " " + node.Input.Count + " inputs; it takes "
                + (schema.MinInputs == schema.MaxInputs ? schema.MinInputs.ToString(CultureInfo.InvariantCulture) : schema.MinInputs + " to " + (schema.MaxInputs == int.MaxValue ? "any number" : schema.MaxInputs.ToString(CultureInfo.InvariantCulture))));
        if (node.Output.Count < 1 || (node.Output[0].Length == 0 && !(schema.ComputesAllOutputs && node.Output.Any(o => o.Length > 0))))
            throw new ModelReadException(Diagnostics.MalformedFile, path, "node '" + name + "' has no output");
        if (node.Output.Count > schema.Outputs)
            throw new ModelReadException(Diagnostics.MalformedFile, path, "node '" + name + "' gives " + node.OpType + " " + node.Output.Count + " outputs; it has " + schema.Outputs);
        for (int i = 1; i < node.Output.Count && !schema.ComputesAllOutputs; i++)
            if (node.Output[i].Length > 0 && r.Uses.ContainsKey(node.Output[i]))
                throw new ModelReadException(Diagnostics.ShapeMismatch, path, name, node.OpType + "'s output " + (i + 1) + " ('" + node.Output[i] + "') is read, and Qtaml computes only the first output");
        return schema;
    }

    /// <summary>The state of one read: the builder, and which ONNX tensor is which value.</summary>
    private sealed class Reading
    {
        private readonly Dictionary<string, TensorProto> _initializers;

        /// <summary>The constants known so far: the file's initializers, Constant nodes and folded nodes, by name.</summary>
        public Dictionary<string, TensorProto> Initializers => _initializers;

        /// <summary>Every name defined so far (ONNX assigns each once).</summary>
        public HashSet<string> Defined { get; } = new(StringComparer.Ordinal);

        /// <summary>The graph inputs of an integer type: indices, readable only by a Gather.</summary>
        public HashSet<string> IntegerInputs { get; } = new(StringComparer.Ordinal);

        /// <summary>Whether <paramref name="name"/> is an integer graph input (not shadowed by a node output).</summary>
        public bool IsIntegerInput(string name) => IntegerInputs.Contains(name);

        private readonly Dictionary<string, ConstantTensor> _decoded = new(StringComparer.Ordinal);

        public Reading(Context context, NetworkBuilder network, Dictionary<string, int> uses, int opset, Dictionary<string, TensorProto> initializers)
        {
            Context = context;
            Network = network;
            Uses = uses;
            Opset = opset;
            _initializers = initializers;
        }

        /// <summary>A tensor known at build time (an initializer, a Constant node, a folded node), or null for a computed value.</summary>
        public ConstantTensor? Constant(string name)
        {
            if (Values.ContainsKey(name) || !_initializers.TryGetValue(name, out TensorProto? tensor)) return null;
            if (!_decoded.TryGetValue(name, out ConstantTensor? decoded))
            {
                if (tensor.DataLocation != TensorProto.Types.DataLocation.Default || tensor.ExternalData.Count > 0) return null;   // the read reports it
                _decoded[name] = decoded = ConstantTensor.Decode(Context.Path, tensor);
            }
            return decoded;
        }

        /// <summary>A computed value's shape, or null for a constant.</summary>
        public long[]? OnnxShape(string name) => Values.TryGetValue(name, out int value) ? Network.ShapeOf(value).Select(d => (long)d).ToArray() : null;

        /// <summary>The file's opset of the default domain: what each operator means.</summary>
        public int Opset { get; }

        public Context Context { get; }
        public NetworkBuilder Network { get; }
        public Dictionary<string, int> Uses { get; }
        public Dictionary<string, int> Values { get; } = new(StringComparer.Ordinal);

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

        /// <summary>An input as a value or a float constant of its own shape.</summary>
        public Operand Operand(NodeProto node, string name, int index)
        {
            string tensor = node.Input[index];
            if (Values.TryGetValue(tensor, out int value)) return Network.ValueOperand(value);
            // A boolean or integer constant (a mask, a threshold) is used as float values, as booleans are 0 and 1 at run time.
            (int[] dims, float[] values) = _initializers.TryGetValue(tensor, out TensorProto? stored) && stored.DataType != FloatType && Constant(tensor) is { } other
                ? (other.Dims, other.Values.Select(v => (float)v).ToArray())
                : Context.Tensor(tensor, name);
            return Generators.Network.Operand.OfConstant(values, dims);
        }

        /// <summary>An axis of a value: negative axes count from the end.</summary>
        public int Axis(int value, long axis, string name, string what)
        {
            int rank = Network.ShapeOf(value).Length;
            long positive = axis < 0 ? axis + rank : axis;
            if (positive < 0 || positive >= rank) throw Network.Mismatch(name, what + " axis " + axis + " is outside the tensor's " + rank + " axes");
            return (int)positive;
        }
    }

    /// <summary>A Constant node's value as a tensor: 'value', or one of the scalar and list forms of opset 12.</summary>
    private static TensorProto ConstantValue(string path, NodeProto node, string name, NodeAttributes a)
    {
        if (a.Count != 1) throw new ModelReadException(Diagnostics.MalformedFile, path, "Constant node '" + name + "' must set exactly one value attribute; it sets " + a.Count);
        var tensor = new TensorProto { Name = node.Output[0] };
        switch (a.Which("value", "value_float", "value_floats", "value_int", "value_ints"))
        {
            case "value":
                tensor = a.Tensor("value")?.Clone() ?? throw new ModelReadException(Diagnostics.MalformedFile, path, "Constant node '" + name + "' has an empty value");
                tensor.Name = node.Output[0];
                break;
            case "value_float":
                tensor.DataType = FloatType;
                tensor.FloatData.Add(a.Float("value_float", 0));
                break;
            case "value_floats":
                tensor.DataType = FloatType;
                tensor.FloatData.Add(a.Floats("value_floats"));
                tensor.Dims.Add(tensor.FloatData.Count);
                break;
            case "value_int":
                tensor.DataType = Int64Type;
                tensor.Int64Data.Add(a.Int("value_int", 0));
                break;
            case "value_ints":
                tensor.DataType = Int64Type;
                tensor.Int64Data.Add(a.Ints("value_ints"));
                tensor.Dims.Add(tensor.Int64Data.Count);
                break;
            default:
                throw new ModelReadException(Diagnostics.ShapeMismatch, path, name, "Constant nodes holding strings or sparse tensors are not supported");
        }
        return tensor;
    }

    /// <summary>
    /// An input's static shape: the file's, with its symbolic dimensions pinned (InputShape), or a symbolic first
    /// dimension taken as 1 (one sample per call, the usual meaning of a dynamic batch). A scalar input is held as [1].
    /// </summary>
    private static int[] ReadInputShape(string path, ValueInfoProto input, long[]? pin)
    {
        var dims = input.Type?.TensorType?.Shape?.Dim;
        if (dims is null) throw new ModelReadException(Diagnostics.MalformedFile, path, "the input '" + input.Name + "' has no shape");
        int elemType = input.Type!.TensorType!.ElemType;
        // Integer inputs are indices (token ids for an embedding, checked where they are read): passed as whole floats.
        // Float64 inputs are computed in float32, as Cast to double is (the build says so).
        if (elemType is not (FloatType or Int64Type or Int32Type or DoubleType)) throw new ModelReadException(Diagnostics.UnsupportedDataType, path, input.Name, elemType);
        if (pin is not null && pin.Length != dims.Count)
            throw new ModelReadException(Diagnostics.InvalidInputPin, "InputShape", string.Join(",", pin), "the input '" + input.Name + "' has " + dims.Count + " dimensions and the shape gives " + pin.Length);
        var full = new int[dims.Count];
        long total = 1;
        for (int i = 0; i < dims.Count; i++)
        {
            bool symbolic = IsSymbolic(dims[i]);
            long d = dims[i].DimValue;
            if (pin is not null)
            {
                if (!symbolic && d != pin[i])
                    throw new ModelReadException(Diagnostics.InvalidInputPin, "InputShape", string.Join(",", pin), "dimension " + i + " of the input '" + input.Name + "' is " + d + " in the file, not " + pin[i]);
                d = pin[i];
            }
            else if (symbolic)
            {
                if (i == 0) d = 1;   // a symbolic batch: one sample per call
                else
                {
                    string example = string.Join(",", dims.Select((x, k) => k == 0 ? "1" : !IsSymbolic(x) ? x.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?"));
                    throw new ModelReadException(Diagnostics.ShapeMismatch, path, input.Name, "input dimension " + i + (dims[i].DimParam.Length > 0 ? " ('" + dims[i].DimParam + "')" : "") + " is symbolic; pin it with InputShape = \"" + example + "\" (a size for each ?) on the attribute, or QtamlInputShape on the weight file in MSBuild");
                }
            }
            if (d < 1 || d > MaxTensorElements)
                throw new ModelReadException(Diagnostics.ShapeMismatch, path, input.Name, "input dimension " + i + " is " + d + "; Qtaml needs positive sizes");
            total = Math.Min(total * d, 1L << 40);
            full[i] = (int)d;
        }
        if (total > MaxTensorElements) throw new ModelReadException(Diagnostics.ShapeMismatch, path, input.Name, "the input is larger than Qtaml supports");
        return full.Length == 0 ? new[] { 1 } : full;
    }

    /// <summary>A dimension the file names (dim_param) or leaves unset, rather than giving its size.</summary>
    private static bool IsSymbolic(TensorShapeProto.Types.Dimension dimension) => dimension.DimParam.Length > 0 || dimension.DimValue == 0;

    /// <summary>
    /// An integer graph input is read only as the indices of a Gather (an embedding lookup): the generated Run takes
    /// it as whole numbers in a float span, exact up to 2²⁴, and checks each against the table. Integer arithmetic on
    /// it, or an integer output, would be computed in float32: refused.
    /// </summary>
    private static void CheckIntegerInputsAreIndices(string path, GraphProto graph, ValueInfoProto[] dataInputs)
    {
        var integers = dataInputs.Where(i => i.Type!.TensorType!.ElemType is Int64Type or Int32Type).ToDictionary(i => i.Name, i => i.Type!.TensorType!.ElemType, StringComparer.Ordinal);
        if (integers.Count == 0) return;
        foreach (NodeProto node in AllNodes(path, graph, 0))
            for (int i = 0; i < node.Input.Count; i++)
                if (integers.TryGetValue(node.Input[i], out int type) && !(node.OpType == "Gather" && i == 1))
                    throw new ModelReadException(Diagnostics.UnsupportedDataType, path, node.Input[i], type);
        foreach (ValueInfoProto output in graph.Output)
            if (integers.TryGetValue(output.Name, out int type)) throw new ModelReadException(Diagnostics.UnsupportedDataType, path, output.Name, type);
    }

    /// <summary>Every input a pin names is an input of the graph.</summary>
    private static void CheckPinnedNames(string path, ValueInfoProto[] inputs, InputPins pins)
    {
        var names = inputs.Select(i => i.Name).ToList();
        foreach ((string property, IEnumerable<string> pinned) in new[] { ("InputShape", pins.Shapes.Keys), ("ConstantInputs", pins.Constants.Keys) })
            foreach (string name in pinned.Where(n => !names.Contains(n)))
                throw new ModelReadException(Diagnostics.InvalidInputPin, property, name, "the model has no input '" + name + "'; its inputs are " + string.Join(", ", names.Select(n => "'" + n + "'")));
    }

    /// <summary>A constant input as an initializer: its pinned or declared shape (or a vector of its values), filled with the values.</summary>
    private static TensorProto ConstantInput(string path, ValueInfoProto input, InputPins pins)
    {
        float[] values = pins.Constants[input.Name];
        long[] shape = pins.Shapes.TryGetValue(input.Name, out long[]? pin) ? pin
            : input.Type?.TensorType?.Shape?.Dim is { } dims && dims.All(d => !IsSymbolic(d)) ? dims.Select(d => d.DimValue).ToArray()
            : new long[] { values.Length };
        if (shape.Aggregate(1L, (a, b) => a * b) != values.Length)
            throw new ModelReadException(Diagnostics.InvalidInputPin, "ConstantInputs", input.Name, "the input '" + input.Name + "' has shape [" + string.Join(", ", shape) + "], which holds " + shape.Aggregate(1L, (a, b) => a * b) + " values, and " + values.Length + " are given");
        var tensor = new TensorProto { Name = input.Name, DataType = input.Type?.TensorType?.ElemType is int t && t != 0 ? t : FloatType };
        tensor.Dims.Add(shape);
        if (tensor.DataType == Int64Type) tensor.Int64Data.Add(values.Select(v => (long)v));
        else if (tensor.DataType == FloatType) tensor.FloatData.Add(values);
        else throw new ModelReadException(Diagnostics.UnsupportedDataType, path, input.Name, tensor.DataType);
        return tensor;
    }

    /// <summary>Translates one node, whose attributes are already checked against its schema, and returns the value that holds its output.</summary>
    private static int ReadNode(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        NetworkBuilder network = r.Network;
        Context context = r.Context;
        switch (node.OpType)
        {
            case "Gemm": return ReadGemm(r, node, name, a);
            case "MatMul":
                if (r.IsValue(node.Input[1])) return network.MatMul(name, r.Data(node, name), r.Data(node, name, 1));
                r.Data(node, name);
                ReadMatMul(context, node, name, network);
                break;
            case "Add": return ReadAdd(r, node, name, a);
            case "Sub": return ReadBinary(r, node, name, BinaryKind.Sub, a);
            case "Mul": return ReadBinary(r, node, name, BinaryKind.Mul, a);
            case "Div": return ReadBinary(r, node, name, BinaryKind.Div, a);
            case "Pow": return ReadBinary(r, node, name, BinaryKind.Pow, a);
            case "Relu": r.Data(node, name); network.Relu(name); break;
            case "Erf": return Unary(r, node, name, UnaryKind.Erf);
            case "Sqrt": return Unary(r, node, name, UnaryKind.Sqrt);
            case "Tanh": return Unary(r, node, name, UnaryKind.Tanh);
            case "Sigmoid": return Unary(r, node, name, UnaryKind.Sigmoid);
            case "Exp": return Unary(r, node, name, UnaryKind.Exp);
            case "Neg": return Unary(r, node, name, UnaryKind.Neg);
            case "Abs": return Unary(r, node, name, UnaryKind.Abs);
            case "Reciprocal": return Unary(r, node, name, UnaryKind.Reciprocal);
            case "Log": return Unary(r, node, name, UnaryKind.Log);
            case "Softplus": return Unary(r, node, name, UnaryKind.Softplus);
            case "Softsign": return Unary(r, node, name, UnaryKind.Softsign);
            case "HardSwish": return Unary(r, node, name, UnaryKind.HardSwish);
            case "LeakyRelu": return Unary(r, node, name, UnaryKind.LeakyRelu, a.Float("alpha", 0.01f));
            case "Elu": return Unary(r, node, name, UnaryKind.Elu, a.Float("alpha", 1f));
            case "Selu": return Unary(r, node, name, UnaryKind.Selu, a.Float("alpha", 1.67326319217681884765625f), a.Float("gamma", 1.05070102214813232421875f));
            case "HardSigmoid": return Unary(r, node, name, UnaryKind.HardSigmoid, a.Float("alpha", 0.2f), a.Float("beta", 0.5f));
            case "Clip": return ReadClip(r, node, name, a);
            case "PRelu": return ReadPRelu(r, node, name);
            case "Equal": return ReadBinary(r, node, name, BinaryKind.Equal, a);
            case "Greater": return ReadBinary(r, node, name, BinaryKind.Greater, a);
            case "Less": return ReadBinary(r, node, name, BinaryKind.Less, a);
            case "GreaterOrEqual": return ReadBinary(r, node, name, BinaryKind.GreaterOrEqual, a);
            case "LessOrEqual": return ReadBinary(r, node, name, BinaryKind.LessOrEqual, a);
            case "And": return ReadBinary(r, node, name, BinaryKind.And, a);
            case "Or": return ReadBinary(r, node, name, BinaryKind.Or, a);
            case "Xor": return ReadBinary(r, node, name, BinaryKind.Xor, a);
            case "Not": return Unary(r, node, name, UnaryKind.Not);
            case "Where": return r.Network.Where(name, r.Operand(node, name, 0), r.Operand(node, name, 1), r.Operand(node, name, 2));
            case "Max": return ReadVariadic(r, node, name, BinaryKind.Max);
            case "Min": return ReadVariadic(r, node, name, BinaryKind.Min);
            case "Sum": return ReadVariadic(r, node, name, BinaryKind.Add);
            case "Mean": return ReadVariadic(r, node, name, BinaryKind.Add, mean: true);
            case "LogSoftmax": return ReadSoftmax(r, node, name, a, log: true);
            case "Gelu":
            {
                string approximate = a.String("approximate", "none");
                if (approximate == "tanh") throw network.Mismatch(name, "Gelu with approximate = tanh is not supported; export the exact (erf) GELU");
                if (approximate != "none") throw new ModelReadException(Diagnostics.MalformedFile, context.Path, "node '" + name + "' sets Gelu's approximate to '" + approximate + "'; ONNX defines 'none' and 'tanh'");
                return Unary(r, node, name, UnaryKind.Gelu);
            }
            case "Softmax": return ReadSoftmax(r, node, name, a);
            case "LayerNormalization":
            {
                int value = r.Data(node, name);
                int axis = r.Axis(value, a.Int("axis", -1), name, "LayerNormalization");
                if (a.Int("stash_type", 1) != 1) throw network.Mismatch(name, "LayerNormalization with stash_type " + a.Int("stash_type", 1) + " is not supported; Qtaml computes its statistics in float32 (stash_type 1)");
                // Normalizing the axes from 'axis' on is normalizing the last axis of the input reshaped to [leading..., rest].
                int[] shape = network.ShapeOf(value);
                int length = Shape.Length(shape.Skip(axis).ToArray());
                if (axis != shape.Length - 1) network.Reshape(name + " (axes from " + axis + " as one)", shape.Take(axis).Concat(new[] { length }).ToArray());
                float[]? beta = node.Input.Count > 2 && node.Input[2].Length > 0 ? context.Vector(node.Input[2], name, length) : null;
                int normalized = network.LayerNorm(name, context.Vector(node.Input[1], name, length), beta, a.Float("epsilon", 1e-5f));
                if (axis == shape.Length - 1) return normalized;
                network.Reshape(name + " (back to " + Shape.Format(shape) + ")", shape);
                return network.Current;
            }
            case "Transpose":
            {
                int value = r.Data(node, name);
                long[] perm = a.Ints("perm");
                int rank = network.ShapeOf(value).Length;
                if (perm.Length == 0) perm = Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
                if (perm.Length != rank) throw network.Mismatch(name, "Transpose perm [" + string.Join(", ", perm) + "] does not fit a rank-" + rank + " tensor");
                return network.Transpose(name, perm.Select(p => p < 0 || p >= rank ? -1 : (int)p).ToArray());
            }
            case "ReduceMean": return ReadReduce(r, node, name, a, ReduceKind.Mean, axesInputFrom: 18);
            case "ReduceSum": return ReadReduce(r, node, name, a, ReduceKind.Sum, axesInputFrom: 13);
            case "ReduceMax": return ReadReduce(r, node, name, a, ReduceKind.Max, axesInputFrom: 18);
            case "ReduceMin": return ReadReduce(r, node, name, a, ReduceKind.Min, axesInputFrom: 18);
            case "Squeeze": return ReadSqueeze(r, node, name, a, squeeze: true);
            case "Unsqueeze": return ReadSqueeze(r, node, name, a, squeeze: false);
            case "Cast":
            {
                // Values are float32 at run time. A cast to float32 is the identity; to double too (every float32 is a
                // double, and what follows is computed in float32); to float16 rounds to the nearest half. Casts to
                // integer or boolean types change what values mean and are not compiled.
                const long Float16 = 10;
                long to = a.Int("to", 0);
                if (to is ConstantTensor.Float or ConstantTensor.Double) return r.Data(node, name);
                if (to == Float16) return Unary(r, node, name, UnaryKind.RoundToHalf);
                // To bool: 1 where the value is not 0 (booleans are 0 and 1 at run time), as Not twice computes it.
                const long Bool = 9;
                if (to == Bool)
                {
                    Unary(r, node, name + " (is zero)", UnaryKind.Not);
                    return network.Unary(name, UnaryKind.Not);
                }
                throw network.Mismatch(name, "Cast of a computed value to ONNX type " + to + " is not supported; Qtaml computes in float32 (casts to float, double, float16 and bool compile)");
            }
            case "ConvTranspose": return ReadConvTranspose(r, node, name, a);
            case "If": return ReadIf(r, node, name, a);
            case "LSTM": return ReadRecurrent(r, node, name, a, lstm: true);
            case "GRU": return ReadRecurrent(r, node, name, a, lstm: false);
            case "Slice": return ReadSlice(r, node, name, a);
            case "Pad": return ReadPad(r, node, name, a);
            case "Tile": return ReadTile(r, node, name);
            case "Split": return ReadSplit(r, node, name, a);
            case "InstanceNormalization": return ReadInstanceNormalization(r, node, name, a);
            case "LRN": return ReadLrn(r, node, name, a);
            case "Resize": return ReadResize(r, node, name, a);
            case "ConstantOfShape":
            case "Range":
                throw network.Mismatch(name, node.OpType + " of a value computed at run time is not supported; Qtaml computes it at build time when its inputs are constants");
            case "GlobalAveragePool": return ReadGlobalPool(r, node, name, PoolKind.Average);
            case "GlobalMaxPool": return ReadGlobalPool(r, node, name, PoolKind.Max);
            case "Concat":
            {
                if (!a.Has("axis")) throw new ModelReadException(Diagnostics.MalformedFile, context.Path, "Concat node '" + name + "' has no axis; ONNX requires one");
                Operand[] parts = Enumerable.Range(0, node.Input.Count).Select(i => r.Operand(node, name, i)).ToArray();
                Operand first = parts.FirstOrDefault(p => !p.IsConstant) ?? throw network.Mismatch(name, "Concat of constants only; fold it when exporting");
                // A constant part of lower rank (a scalar made a vector) is aligned from the right, as broadcasting would.
                int rank = first.Shape.Length;
                parts = parts.Select(p => !p.IsConstant || p.Shape.Length == rank ? p
                    : p.Shape.Length < rank ? Operand.OfConstant(p.Constant!, Enumerable.Repeat(1, rank - p.Shape.Length).Concat(p.Shape).ToArray())
                    : throw network.Mismatch(name, "a Concat constant has more axes than the values it joins")).ToArray();
                int axis = r.Axis(first.Value, a.Int("axis", 0), name, "Concat");
                return network.Concat(name, parts, axis);
            }
            case "Gather":
            {
                if (r.IsValue(node.Input[0]) && !r.IsValue(node.Input[1])) return ReadGatherOfValue(r, node, name, a);
                if (a.Int("axis", 0) != 0) throw network.Mismatch(name, "Gather of a constant table is supported on axis 0 (rows of an embedding table)");
                if (r.IsValue(node.Input[0]))
                    throw network.Mismatch(name, "Gather of a computed table at computed indices is not supported; a constant table is read at constant indices or at an integer graph input's");
                if (r.IsValue(node.Input[1]))
                {
                    if (!r.IsIntegerInput(node.Input[1]))
                        throw network.Mismatch(name, "Gather indices computed at run time are supported when they are an integer graph input (token ids)");
                    (int[] tableShape, float[] tableValues) = context.Tensor(node.Input[0], name);
                    return network.EmbeddingAt(name, tableValues, tableShape, r.Data(node, name, 1));
                }
                (int[] dims, float[] table) = context.Tensor(node.Input[0], name);
                (int[] indexShape, long[] indices) = context.Indices(node.Input[1], name);
                return network.Embedding(name, table, dims, indices, indexShape);
            }
            case "Flatten":
            {
                int value = r.Data(node, name);
                long axis = a.Int("axis", 1), rank = network.ShapeOf(value).Length;
                if (axis < -rank || axis > rank) throw network.Mismatch(name, "Flatten axis " + axis + " is outside the " + rank + " axes of its input");
                network.Flatten(name, (int)(axis < 0 ? axis + rank : axis));
                break;
            }
            case "Reshape": ReadReshape(r, context, node, name, network, a); break;
            case "Identity": return r.Data(node, name);
            case "Dropout": return ReadDropout(r, node, name, a);
            case "Conv": r.Data(node, name); ReadConv(context, node, name, network, a); break;
            case "MaxPool": r.Data(node, name); ReadPool(context, node, name, network, PoolKind.Max, a); break;
            case "AveragePool": r.Data(node, name); ReadPool(context, node, name, network, PoolKind.Average, a); break;
            case "BatchNormalization": return ReadBatchNormalization(r, node, name, a);
            default:
                throw UnsupportedOperators.Exception(context.Path, new[] { (node.OpType, name) }, OperatorSchemas.SupportedList);
        }
        return network.Current;
    }

    private static int Unary(Reading r, NodeProto node, string name, UnaryKind kind, float alpha = 0, float beta = 0)
    {
        r.Data(node, name);
        return r.Network.Unary(name, kind, alpha, beta);
    }

    /// <summary>
    /// Softmax. From opset 13 it normalizes one axis (default the last). Before, it coerced its input to 2-D at
    /// the axis (default 1) and normalized the flattened block of every axis from there on: the same as a softmax
    /// over the last axis of the input reshaped to [leading..., rest], which is how it is compiled.
    /// </summary>
    private static int ReadSoftmax(Reading r, NodeProto node, string name, NodeAttributes a, bool log = false)
    {
        NetworkBuilder network = r.Network;
        int value = r.Data(node, name);
        int[] shape = network.Shape;
        if (r.Opset >= 13)
        {
            int axis = r.Axis(value, a.Int("axis", -1), name, "Softmax");
            if (axis != shape.Length - 1) throw network.Mismatch(name, node.OpType + " over axis " + axis + " of " + Shape.Format(shape) + " is not supported; Qtaml normalizes the last axis");
            network.Softmax(name, log);
            return network.Current;
        }
        int start = r.Axis(value, a.Int("axis", 1), name, node.OpType);
        if (start == shape.Length - 1)
        {
            network.Softmax(name, log);
            return network.Current;
        }
        int[] coerced = shape.Take(start).Concat(new[] { Shape.Length(shape.Skip(start).ToArray()) }).ToArray();
        network.Reshape(name + " (coerced to 2-D, opset " + r.Opset + ")", coerced);
        network.Softmax(name, log);
        network.Reshape(name + " (back to " + Shape.Format(shape) + ")", shape);
        return network.Current;
    }

    /// <summary>Dropout is the identity at inference; a file that asks for training mode (a true training_mode input) is refused.</summary>
    private static int ReadDropout(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            if (r.IsValue(node.Input[2])) throw r.Network.Mismatch(name, "Dropout's training_mode is computed at run time; Qtaml compiles inference, where it must be a constant false");
            if (r.Context.Booleans(node.Input[2], name).Any(t => t)) throw r.Network.Mismatch(name, "Dropout has training_mode = true, which drops values at random; export the model in inference mode");
        }
        if (node.Input.Count > 1 && node.Input[1].Length > 0 && r.IsValue(node.Input[1]))
            throw r.Network.Mismatch(name, "Dropout's ratio is computed at run time; Qtaml needs it as a constant");
        return r.Data(node, name);
    }

    private static int ReadBinary(Reading r, NodeProto node, string name, BinaryKind kind, NodeAttributes a)
    {
        Operand left = r.Operand(node, name, 0), right = r.Operand(node, name, 1);
        right = LegacyBroadcast(r, node, name, a, left, right);
        return r.Network.Binary(name, kind, left, right);
    }

    /// <summary>
    /// Before opset 7, element-wise arithmetic broadcast only when asked (broadcast = 1), by aligning the second
    /// operand's shape with the first's trailing axes, or with the axes from 'axis' on. Trailing alignment is what
    /// numpy broadcasting does; an explicit axis becomes it by giving the second operand trailing axes of 1 (a
    /// constant is re-shaped, a value reshaped). Returns the second operand, aligned.
    /// </summary>
    private static Operand LegacyBroadcast(Reading r, NodeProto node, string name, NodeAttributes a, Operand left, Operand right)
    {
        if (r.Opset >= 7) return right;
        bool broadcast = a.Int("broadcast", 0) != 0;
        if (!broadcast && left.Length != right.Length)
            throw new ModelReadException(Diagnostics.MalformedFile, r.Context.Path, "node '" + name + "' combines shapes " + Shape.Format(left.Shape) + " and " + Shape.Format(right.Shape) + " without broadcast = 1, which opset " + r.Opset + " requires for that");
        if (!broadcast || !a.Has("axis")) return right;
        int rank = left.Shape.Length;
        long axis = a.Int("axis", 0);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis + right.Shape.Length > rank)
            throw r.Network.Mismatch(name, node.OpType + " broadcasts " + Shape.Format(right.Shape) + " from axis " + a.Int("axis", 0) + " of " + Shape.Format(left.Shape) + ", past its last axis");
        int[] aligned = right.Shape.Concat(Enumerable.Repeat(1, rank - (int)axis - right.Shape.Length)).ToArray();
        if (aligned.Length == right.Shape.Length) return right;
        if (right.IsConstant) return Operand.OfConstant(right.Constant!, aligned);
        r.Network.Current = right.Value;
        r.Network.Reshape(name + " (legacy broadcast from axis " + axis + ")", aligned);
        return r.Network.ValueOperand(r.Network.Current);
    }

    /// <summary>
    /// An Add of a constant to the product of a Conv or dense layer that nothing else reads is that layer's bias,
    /// folded into it; any other Add (a residual connection, a broadcast constant) is computed.
    /// </summary>
    private static int ReadAdd(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        Operand left = r.Operand(node, name, 0), right = r.Operand(node, name, 1);
        right = LegacyBroadcast(r, node, name, a, left, right);
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

    /// <summary>
    /// Whether a constant adds one value per output channel without changing the layer's output shape: a scalar,
    /// [C] after a dense layer (its last axis), [C, 1, 1] after a 2-D Conv ([C, 1] after a 1-D one), each with any
    /// leading unit axes up to the output's rank. ([C] after a Conv broadcasts against the width axis, not the channels.)
    /// </summary>
    private static bool IsBias(WeightLayer layer, Operand constant)
    {
        int[] output = layer.OutputShape, own = constant.Shape.SkipWhile(d => d == 1).ToArray();
        if (constant.Shape.Length > output.Length) return false;
        if (constant.Length == 1) return true;
        int channels = layer.Channels;
        return layer switch
        {
            DenseLayer => own.Length == 1 && own[0] == channels,
            ConvLayer => own.Length == output.Length - 1 && own[0] == channels && own.Skip(1).All(d => d == 1),
            _ => false,
        };
    }

    /// <summary>
    /// BatchNormalization at inference: y = x·a + c per channel (ONNX axis 1), a = γ/√(var + ε), c = β − a·mean.
    /// Folded into the Conv or flat dense layer before it when that layer's output has no other reader; otherwise
    /// computed as a broadcast multiply and add, which is exact for every reader.
    /// </summary>
    private static int ReadBatchNormalization(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        NetworkBuilder network = r.Network;
        if (r.Opset < 9 && a.Int("spatial", 1) != 1) throw network.Mismatch(name, "BatchNormalization with spatial = 0 (per-element statistics) is not supported");
        if (a.Int("training_mode", 0) != 0) throw network.Mismatch(name, "BatchNormalization has training_mode = 1 (batch statistics); export the model in inference mode");
        int value = r.Data(node, name);
        int[] shape = network.Shape;
        if (shape.Length < 2) throw network.Mismatch(name, "BatchNormalization normalizes axis 1 of (N, C, ...), and its input is " + Shape.Format(shape));
        int channels = shape[1];
        float[] gamma = r.Context.Vector(node.Input[1], name, channels), beta = r.Context.Vector(node.Input[2], name, channels);
        float[] mean = r.Context.Vector(node.Input[3], name, channels), variance = r.Context.Vector(node.Input[4], name, channels);
        (float[] scale, float[] shift) = network.BatchNormalizationAffine(name, gamma, beta, mean, variance, a.Float("epsilon", 1e-5f));

        bool onlyReader = r.Uses.TryGetValue(node.Input[0], out int uses) && uses == 1;
        if (onlyReader && network.Producer(value) is WeightLayer producer and not EmbeddingLayer
            && (producer is ConvLayer || producer is DenseLayer { Rows: 1 }) && producer.Channels == channels)
        {
            producer.FoldAffine(scale, shift);
            return value;
        }
        int[] perChannel = new[] { channels }.Concat(Enumerable.Repeat(1, shape.Length - 2)).ToArray();
        int scaled = network.Binary(name + " (scale)", BinaryKind.Mul, network.ValueOperand(value), Operand.OfConstant(scale, perChannel));
        return network.Binary(name + " (shift)", BinaryKind.Add, network.ValueOperand(scaled), Operand.OfConstant(shift, perChannel));
    }

    /// <summary>
    /// Gemm, alpha·A'·B' + beta·C. With a constant B it is a dense layer (weights quantized and protected), A
    /// transposed first if transA; with a computed B, a product of two values, scaled, plus C (constant or computed).
    /// </summary>
    private static int ReadGemm(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        NetworkBuilder network = r.Network;
        int left = r.Data(node, name);
        if (network.ShapeOf(left).Length != 2) throw network.Mismatch(name, "Gemm needs a matrix A but gets " + Shape.Format(network.ShapeOf(left)) + "; add a Flatten");
        if (a.Int("transA", 0) != 0) left = network.Transpose(name + " (A transposed)", SwapAxes);
        if (!r.IsValue(node.Input[1]))
        {
            network.Current = left;
            ReadGemm(r.Context, node, name, network, a);
            return network.Current;
        }
        int right = r.Data(node, name, 1);
        if (network.ShapeOf(right).Length != 2) throw network.Mismatch(name, "Gemm needs a matrix B but gets " + Shape.Format(network.ShapeOf(right)));
        if (a.Int("transB", 0) != 0) right = network.Transpose(name + " (B transposed)", SwapAxes);
        float alpha = a.Float("alpha", 1f), beta = a.Float("beta", 1f);
        int result = network.MatMul(name, left, right);
        if (alpha != 1f) result = network.Binary(name + " (times alpha)", BinaryKind.Mul, network.ValueOperand(result), Operand.OfConstant(new[] { alpha }, Scalar));
        if (node.Input.Count < 3 || node.Input[2].Length == 0 || beta == 0f) return result;
        Operand c = r.Operand(node, name, 2);
        if (c.IsConstant) c = Operand.OfConstant(c.Constant!.Select(v => beta * v).ToArray(), c.Shape);
        else if (beta != 1f) c = network.ValueOperand(network.Binary(name + " (C times beta)", BinaryKind.Mul, c, Operand.OfConstant(new[] { beta }, Scalar)));
        return network.Binary(name + " (plus C)", BinaryKind.Add, network.ValueOperand(result), c);
    }

    /// <summary>The permutation that transposes a matrix.</summary>
    private static readonly int[] SwapAxes = { 1, 0 };

    private static void ReadGemm(Context context, NodeProto node, string name, NetworkBuilder network, NodeAttributes a)
    {
        float alpha = a.Float("alpha", 1f), beta = a.Float("beta", 1f);
        bool transB = a.Int("transB", 0) != 0;
        (int[] dims, float[] w) = context.Tensor(node.Input[1], name);
        if (dims.Length != 2) throw network.Mismatch(name, "the Gemm weight has shape " + Shape.Format(dims) + "; a matrix is needed");
        int inputs = transB ? dims[1] : dims[0], outputs = transB ? dims[0] : dims[1];
        float[] weights = transB ? w : Transpose(w, dims[0], dims[1]);
        for (int i = 0; i < weights.Length; i++) weights[i] *= alpha;
        float[]? bias = null;
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            (int[] bDims, float[] b) = context.Tensor(node.Input[2], name);
            // C must broadcast to [1, N] in one direction: [], [1], [N], [1, 1] or [1, N].
            bool fits = bDims.Length <= 2 && (bDims.Length < 2 || bDims[0] == 1) && (bDims.Length == 0 || bDims[bDims.Length - 1] == 1 || bDims[bDims.Length - 1] == outputs);
            if (!fits) throw network.Mismatch(name, "the Gemm bias has shape " + Shape.Format(bDims) + ", which does not broadcast to the [1, " + outputs + "] output");
            bias = b.Length == outputs ? b.Select(v => beta * v).ToArray() : Enumerable.Repeat(beta * b[0], outputs).ToArray();
        }
        network.Dense(name, "Gemm", weights, outputs, inputs, bias);
    }

    private static void ReadMatMul(Context context, NodeProto node, string name, NetworkBuilder network)
    {
        (int[] dims, float[] w) = context.Tensor(node.Input[1], name);
        if (dims.Length != 2) throw network.Mismatch(name, "the MatMul weight has shape " + Shape.Format(dims) + "; a matrix is needed");
        network.Dense(name, "MatMul", Transpose(w, dims[0], dims[1]), dims[1], dims[0], null);
    }

    /// <summary>Reshape to a constant shape: 0 copies the input's dimension at that position (unless allowzero), one -1 takes what is left.</summary>
    private static void ReadReshape(Reading r, Context context, NodeProto node, string name, NetworkBuilder network, NodeAttributes a)
    {
        int value = r.Data(node, name);
        long[] target = context.Longs(node.Input[1], name);
        int[] shape = network.ShapeOf(value);
        int total = Shape.Length(shape);
        bool copies = a.Int("allowzero", 0) == 0;
        long known = 1;
        int unknown = 0;
        var result = new long[target.Length];
        for (int i = 0; i < target.Length; i++)
        {
            long d = target[i];
            if (d == 0 && copies)
            {
                if (i >= shape.Length) throw network.Mismatch(name, "Reshape to [" + string.Join(", ", target) + "] copies dimension " + i + ", which its input " + Shape.Format(shape) + " does not have");
                d = shape[i];
            }
            result[i] = d;
            if (d == -1) unknown++;
            else if (d > 0) known = Math.Min(known * d, 1L << 40);
            else throw network.Mismatch(name, "Reshape to [" + string.Join(", ", target) + "] is not supported" + (d == 0 ? " (an empty tensor)" : ""));
        }
        if (unknown > 1) throw new ModelReadException(Diagnostics.MalformedFile, context.Path, "node '" + name + "' reshapes to [" + string.Join(", ", target) + "], with more than one -1");
        if ((unknown == 0 && known != total) || (unknown == 1 && total % known != 0))
            throw network.Mismatch(name, "Reshape to [" + string.Join(", ", target) + "] does not fit the " + total + " values of " + Shape.Format(shape));
        int[] resolved = result.Select(d => d == -1 ? (int)(total / known) : (int)d).ToArray();
        network.Reshape(name, resolved.Length == 0 ? new[] { total } : resolved);
    }

    private static void ReadConv(Context context, NodeProto node, string name, NetworkBuilder network, NodeAttributes a)
    {
        int rank = network.Spatial(name, "Conv");
        (int[] dims, float[] w) = context.Tensor(node.Input[1], name);
        if (dims.Length != rank + 2) throw network.Mismatch(name, "the Conv weight has shape " + Shape.Format(dims) + " but the input " + Shape.Format(network.Shape) + " is " + rank + "-D");
        int[] kernel = dims.Skip(2).ToArray();
        long[] declared = a.Ints("kernel_shape");
        if (declared.Length > 0 && !declared.SequenceEqual(kernel.Select(k => (long)k)))
            throw new ModelReadException(Diagnostics.MalformedFile, context.Path, "Conv node '" + name + "' has kernel_shape [" + string.Join(", ", declared) + "] but its weight is " + Shape.Format(dims));
        long groups = a.Int("group", 1);
        if (groups < 1 || groups > network.Shape[1]) throw network.Mismatch(name, "group = " + groups + " must be between 1 and the " + network.Shape[1] + " input channels");
        (Window window, int[] pads) = ReadWindow(context, a, name, network, kernel, dilated: true);
        float[]? bias = node.Input.Count > 2 && node.Input[2].Length > 0 ? context.Tensor(node.Input[2], name).Values : null;
        network.Conv(name, w, dims, bias, window, pads, (int)groups);
    }

    private static void ReadPool(Context context, NodeProto node, string name, NetworkBuilder network, PoolKind kind, NodeAttributes a)
    {
        int rank = network.Spatial(name, node.OpType);
        bool ceil = a.Int("ceil_mode", 0) != 0;
        // A partial last window's padding beyond the end pads: ONNX Runtime leaves it out of an average that counts pads.
        if (ceil && kind == PoolKind.Average && a.Int("count_include_pad", 0) != 0)
            throw network.Mismatch(name, "AveragePool with ceil_mode = 1 and count_include_pad = 1 is not supported");
        long[] kernel = a.Ints("kernel_shape");
        if (kernel.Length != rank || kernel.Any(k => k < 1 || k > 1 << 16)) throw network.Mismatch(name, node.OpType + " needs a positive kernel_shape of " + rank + " value(s) for its " + rank + "-D input");
        (Window window, int[] pads) = ReadWindow(context, a, name, network, kernel.Select(k => (int)k).ToArray(), dilated: true);
        network.Pool(name, kind, window, pads, a.Int("count_include_pad", 0) != 0, ceil);
    }

    /// <summary>
    /// The window of a 1-D, 2-D or 3-D Conv or pool over the current value (height 1 for 1-D, depth 1 below 3-D),
    /// and its padding (top, left, bottom, right, then front, back for 3-D): explicit pads with auto_pad NOTSET;
    /// none with VALID; with SAME_UPPER / SAME_LOWER, what keeps ceil(input / stride) outputs, the odd pixel at the
    /// end (UPPER) or the start (LOWER). auto_pad together with nonzero pads is not a valid file.
    /// </summary>
    private static (Window Window, int[] Pads) ReadWindow(Context context, NodeAttributes a, string name, NetworkBuilder network, int[] kernel, bool dilated)
    {
        int rank = kernel.Length;
        int[] strides = PerAxis(a, name, network, "strides", rank);
        int[] dilations = dilated ? PerAxis(a, name, network, "dilations", rank) : Enumerable.Repeat(1, rank).ToArray();
        string autoPad = a.String("auto_pad", "NOTSET");
        long[] pads = a.Ints("pads");
        if (autoPad != "NOTSET" && pads.Any(p => p != 0))
            throw new ModelReadException(Diagnostics.MalformedFile, context.Path, "node '" + name + "' sets both auto_pad = " + autoPad + " and pads; ONNX allows one or the other");
        var begin = new int[rank];
        var end = new int[rank];
        switch (autoPad)
        {
            case "NOTSET":
                if (pads.Length == 0) break;
                if (pads.Length != 2 * rank || pads.Any(p => p < 0 || p > 1 << 16)) throw network.Mismatch(name, "pads must be " + (2 * rank) + " values between 0 and 65536");
                for (int d = 0; d < rank; d++) (begin[d], end[d]) = ((int)pads[d], (int)pads[rank + d]);
                break;
            case "VALID":
                break;
            case "SAME_UPPER":
            case "SAME_LOWER":
                for (int d = 0; d < rank; d++)
                    (begin[d], end[d]) = Same(network.Shape[2 + d], (kernel[d] - 1L) * dilations[d] + 1, strides[d], autoPad == "SAME_UPPER");
                break;
            default:
                throw new ModelReadException(Diagnostics.MalformedFile, context.Path, "node '" + name + "' has auto_pad = '" + autoPad + "'; ONNX defines NOTSET, VALID, SAME_UPPER and SAME_LOWER");
        }
        // The axes from the last: width, height (1 for 1-D), depth (1 below 3-D).
        int Axis(int[] values, int fromLast, int fill) => fromLast < rank ? values[rank - 1 - fromLast] : fill;
        var window = new Window(Axis(kernel, 1, 1), Axis(kernel, 0, 1), Axis(strides, 1, 1), Axis(strides, 0, 1), Axis(begin, 1, 0), Axis(begin, 0, 0), Axis(dilations, 1, 1), Axis(dilations, 0, 1),
            Axis(kernel, 2, 1), Axis(strides, 2, 1), Axis(begin, 2, 0), Axis(dilations, 2, 1));
        int[] planar = { Axis(begin, 1, 0), Axis(begin, 0, 0), Axis(end, 1, 0), Axis(end, 0, 0) };
        return (window, rank == 3 ? planar.Concat(new[] { begin[0], end[0] }).ToArray() : planar);
    }

    /// <summary>SAME padding of one axis: the total that gives ceil(size / stride) outputs, split with the odd one at the end (upper) or start.</summary>
    private static (int Begin, int End) Same(int size, long kernel, int stride, bool upper)
    {
        long outputs = (size + (long)stride - 1) / stride;
        long total = Math.Max(0, (outputs - 1) * stride + kernel - size);
        int small = (int)(total / 2), large = (int)(total - total / 2);
        return upper ? (small, large) : (large, small);
    }

    /// <summary>A per-axis attribute (strides, dilations): one positive value per spatial axis, 1 where it is absent.</summary>
    private static int[] PerAxis(NodeAttributes a, string name, NetworkBuilder network, string attribute, int rank)
    {
        long[] values = a.Ints(attribute);
        if (values.Length == 0) return Enumerable.Repeat(1, rank).ToArray();
        if (values.Length != rank || values.Any(v => v < 1 || v > 1 << 16)) throw network.Mismatch(name, attribute + " must hold " + rank + " positive value(s) up to 65536");
        return values.Select(v => (int)v).ToArray();
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
