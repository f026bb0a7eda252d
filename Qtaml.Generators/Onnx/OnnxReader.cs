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

    /// <summary>The shape of a value with one element.</summary>
    private static readonly int[] Scalar = { 1 };

    private static readonly int[] NoPadding = { 0, 0, 0, 0 };

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
        GraphPort[] inputs = dataInputs.Select(i => new GraphPort(i.Name, reading.Values[i.Name], ElementOf(i))).ToArray();
        string[] float64 = dataInputs.Concat(graph.Output).Where(p => p.Type?.TensorType?.ElemType == DoubleType).Select(p => p.Name).ToArray();
        return reading.Network.Build(inputs, outputs, float64);
    }

    /// <summary>How the generated Run takes a graph input: an int64 or int32 input (indices) as its integers, any other as floats.</summary>
    private static PortElement ElementOf(ValueInfoProto input) => input.Type?.TensorType?.ElemType switch
    {
        Int64Type => PortElement.Int64,
        Int32Type => PortElement.Int32,
        _ => PortElement.Float,
    };

    /// <summary>
    /// The data inputs and the outputs a model declares (what a compiled class would name its Run's parameters after),
    /// read without compiling anything; null when the file is not even a graph, or declares more ports than compile.
    /// </summary>
    public static (string[] Inputs, PortElement[] InputElements, string[] Outputs)? DeclaredPorts(byte[] bytes, InputPins pins)
    {
        try
        {
            GraphProto? graph = ModelProto.Parser.ParseFrom(InvalidUtf8Strings.Escape(bytes)).Graph;
            if (graph is null || graph.Node.Count == 0) return null;
            var initializers = new HashSet<string>(graph.Initializer.Select(t => t.Name), StringComparer.Ordinal);
            ValueInfoProto[] inputs = graph.Input.Where(i => !initializers.Contains(i.Name) && !pins.Constants.ContainsKey(i.Name)).GroupBy(i => i.Name, StringComparer.Ordinal).Select(g => g.First()).ToArray();
            string[] outputs = graph.Output.Count > 0 ? graph.Output.Select(o => o.Name).ToArray() : graph.Node[graph.Node.Count - 1].Output.Take(1).ToArray();
            return inputs.Length is 0 or > MaxPorts || outputs.Length is 0 or > MaxPorts ? null : (inputs.Select(i => i.Name).ToArray(), inputs.Select(ElementOf).ToArray(), outputs);
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
        if (version < OperatorCatalog.MinOpset || version > OperatorCatalog.MaxOpset)
            throw new ModelReadException(Diagnostics.UnsupportedOpset, path, version.Value, OperatorCatalog.MinOpset, OperatorCatalog.MaxOpset);
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
            OperatorDefinition definition = CheckNode(reading, node, nodeName);
            foreach (string written in node.Output)
                if (written.Length > 0 && !reading.Defined.Add(written))
                    throw new ModelReadException(Diagnostics.MalformedFile, path, "the value '" + written + "' is defined twice (node '" + nodeName + "' writes it again)");
            NodeAttributes attributes = NodeAttributes.Check(path, node, nodeName, definition, reading.Opset);
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
            int value = definition.Read(reading, node, nodeName, attributes);
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
        var unknown = AllNodes(path, graph, 0).Where(n => !IsDefaultDomain(n.Domain) || !OperatorCatalog.TryGet(n.OpType, out _))
            .Select(n => (Qualified(n), NodeName(n))).ToList();
        if (unknown.Count > 0) throw UnsupportedOperators.Exception(path, unknown, OperatorCatalog.SupportedList);
    }

    /// <summary>A node the file gets wrong: QTAML002 naming the node and its operator.</summary>
    private static ModelReadException Malformed(Reading r, string name, string op, string what) =>
        new(Diagnostics.MalformedFile, r.Context.Path, "node '" + name + "' (" + op + ") " + what);

    /// <summary>How diagnostics name a node: its name, or its operator when the file leaves it unnamed.</summary>
    private static string NodeName(NodeProto node) => string.IsNullOrEmpty(node.Name) ? node.OpType : node.Name;

    /// <summary>An operator's name, with its domain when it is not the default one (com.microsoft.FusedGemm).</summary>
    private static string Qualified(NodeProto node) => IsDefaultDomain(node.Domain) ? node.OpType : node.Domain + "." + node.OpType;

    /// <summary>The node's operator is one Qtaml knows at this opset, with a fitting number of inputs, and no output beyond those it computes is read.</summary>
    private static OperatorDefinition CheckNode(Reading r, NodeProto node, string name)
    {
        string path = r.Context.Path;
        if (!IsDefaultDomain(node.Domain) || !OperatorCatalog.TryGet(node.OpType, out OperatorDefinition definition))
            throw UnsupportedOperators.Exception(path, new[] { (Qualified(node), name) }, OperatorCatalog.SupportedList);
        if (r.Opset < definition.SinceOpset)
            throw new ModelReadException(Diagnostics.MalformedFile, path, "node '" + name + "' uses " + node.OpType + ", which ONNX defines from opset " + definition.SinceOpset + ", but the file imports opset " + r.Opset);
        if (node.Input.Count < definition.MinInputs || node.Input.Count > definition.MaxInputs)
            throw new ModelReadException(Diagnostics.MalformedFile, path, "node '" + name + "' gives " + node.OpType + " " + node.Input.Count + " inputs; it takes "
                + (definition.MinInputs == definition.MaxInputs ? definition.MinInputs.ToString(CultureInfo.InvariantCulture) : definition.MinInputs + " to " + (definition.MaxInputs == int.MaxValue ? "any number" : definition.MaxInputs.ToString(CultureInfo.InvariantCulture))));
        if (node.Output.Count < 1 || (node.Output[0].Length == 0 && !(definition.ComputesAllOutputs && node.Output.Any(o => o.Length > 0))))
            throw new ModelReadException(Diagnostics.MalformedFile, path, "node '" + name + "' has no output");
        if (node.Output.Count > definition.Outputs)
            throw new ModelReadException(Diagnostics.MalformedFile, path, "node '" + name + "' gives " + node.OpType + " " + node.Output.Count + " outputs; it has " + definition.Outputs);
        for (int i = 1; i < node.Output.Count && !definition.ComputesAllOutputs; i++)
            if (node.Output[i].Length > 0 && r.Uses.ContainsKey(node.Output[i]))
                throw new ModelReadException(Diagnostics.ShapeMismatch, path, name, node.OpType + "'s output " + (i + 1) + " ('" + node.Output[i] + "') is read, and Qtaml computes only the first output");
        return definition;
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

}
