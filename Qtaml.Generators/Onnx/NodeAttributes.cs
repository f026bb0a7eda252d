using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;
using AttributeType = Qtaml.Generators.Onnx.Schema.AttributeProto.Types.AttributeType;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// A node's attributes, checked against its operator's schema at the file's opset before any is read: each
/// name at most once, each one defined for the operator at that opset, each of its declared type. Reads are
/// typed, so an attribute of the wrong type can never be read as a default (an INT alpha as 0.0).
/// </summary>
internal sealed class NodeAttributes
{
    private readonly Dictionary<string, AttributeProto> _byName;

    private NodeAttributes(Dictionary<string, AttributeProto> byName) => _byName = byName;

    /// <summary>Checks every attribute of <paramref name="node"/>; throws the diagnostic for the first that does not fit.</summary>
    public static NodeAttributes Check(string path, NodeProto node, string nodeName, OperatorDefinition definition, int opset)
    {
        Dictionary<string, AttributeSchema> allowed = definition.AttributesAt(opset).ToDictionary(a => a.Name, a => a, System.StringComparer.Ordinal);
        var byName = new Dictionary<string, AttributeProto>(System.StringComparer.Ordinal);
        foreach (AttributeProto attribute in node.Attribute)
        {
            if (byName.ContainsKey(attribute.Name))
                throw new ModelReadException(Diagnostics.MalformedFile, path, "node '" + nodeName + "' has the attribute '" + attribute.Name + "' twice");
            if (!allowed.TryGetValue(attribute.Name, out AttributeSchema? expected))
                throw new ModelReadException(Diagnostics.ShapeMismatch, path, nodeName,
                    definition.Name + " at opset " + opset + " has no attribute '" + attribute.Name + "'"
                    + (allowed.Count == 0 ? "; it takes none" : "; it takes " + string.Join(", ", allowed.Keys.OrderBy(k => k, System.StringComparer.Ordinal))));
            // Files from before attribute types were recorded leave the type undefined: the field of the declared type is read.
            if (attribute.Type != AttributeType.Undefined && attribute.Type != expected.Type)
                throw new ModelReadException(Diagnostics.MalformedFile, path,
                    "node '" + nodeName + "' gives " + definition.Name + "'s attribute '" + attribute.Name + "' as " + attribute.Type.ToString().ToUpperInvariant() + "; ONNX defines it as " + expected.Type.ToString().ToUpperInvariant());
            // The value must sit in the field of that type: a FLOAT alpha whose number is in the int field would read as 0.
            if (StrayField(attribute, expected.Type) is string stray)
                throw new ModelReadException(Diagnostics.MalformedFile, path,
                    "node '" + nodeName + "' gives " + definition.Name + "'s attribute '" + attribute.Name + "' as " + expected.Type.ToString().ToUpperInvariant() + " but stores its value in the " + stray + " field");
            byName.Add(attribute.Name, attribute);
        }
        return new NodeAttributes(byName);
    }

    /// <summary>A field other than the one of <paramref name="type"/> that holds a value, or null when there is none.</summary>
    private static string? StrayField(AttributeProto a, AttributeType type)
    {
        (string Field, AttributeType Type, bool Set)[] fields =
        {
            ("f (FLOAT)", AttributeType.Float, a.F != 0), ("i (INT)", AttributeType.Int, a.I != 0), ("s (STRING)", AttributeType.String, !a.S.IsEmpty),
            ("t (TENSOR)", AttributeType.Tensor, a.T is not null), ("g (GRAPH)", AttributeType.Graph, a.G is not null),
            ("floats (FLOATS)", AttributeType.Floats, a.Floats.Count > 0), ("ints (INTS)", AttributeType.Ints, a.Ints.Count > 0),
            ("strings (STRINGS)", AttributeType.Strings, a.Strings.Count > 0), ("tensors (TENSORS)", AttributeType.Tensors, a.Tensors.Count > 0),
            ("graphs (GRAPHS)", AttributeType.Graphs, a.Graphs.Count > 0),
        };
        return fields.Where(f => f.Set && f.Type != type).Select(f => f.Field).FirstOrDefault();
    }

    public bool Has(string name) => _byName.ContainsKey(name);

    public long Int(string name, long fallback) => _byName.TryGetValue(name, out AttributeProto? a) ? a.I : fallback;

    public float Float(string name, float fallback) => _byName.TryGetValue(name, out AttributeProto? a) ? a.F : fallback;

    public long[] Ints(string name) => _byName.TryGetValue(name, out AttributeProto? a) ? a.Ints.ToArray() : System.Array.Empty<long>();

    public float[] Floats(string name) => _byName.TryGetValue(name, out AttributeProto? a) ? a.Floats.ToArray() : System.Array.Empty<float>();

    public string String(string name, string fallback) => _byName.TryGetValue(name, out AttributeProto? a) ? a.S.ToStringUtf8() : fallback;

    public TensorProto? Tensor(string name) => _byName.TryGetValue(name, out AttributeProto? a) ? a.T : null;

    public string[] Strings(string name) => _byName.TryGetValue(name, out AttributeProto? a) ? a.Strings.Select(b => b.ToStringUtf8()).ToArray() : System.Array.Empty<string>();

    public GraphProto? Graph(string name) => _byName.TryGetValue(name, out AttributeProto? a) ? a.G : null;

    /// <summary>The one attribute that is set, of those named (Constant's value forms).</summary>
    public string? Which(params string[] names) => names.FirstOrDefault(Has);

    public int Count => _byName.Count;
}
