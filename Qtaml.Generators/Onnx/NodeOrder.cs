using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// Nodes in an order where each comes after the nodes whose outputs it reads. ONNX requires files to store their
/// nodes so; some exporters and graph editors do not, and ONNX Runtime sorts them itself. The order is the file's
/// wherever the file's order works (a stable topological sort); nodes that can never run (a cycle, an input no node
/// computes) keep their file order at the end, where the reader reports what is wrong with them.
/// </summary>
internal static class NodeOrder
{
    public static IReadOnlyList<NodeProto> Sorted(IList<NodeProto> nodes, ISet<string> available)
    {
        var producer = new Dictionary<string, int>(System.StringComparer.Ordinal);
        for (int i = 0; i < nodes.Count; i++)
            foreach (string output in nodes[i].Output)
                if (output.Length > 0 && !producer.ContainsKey(output)) producer[output] = i;

        // What each node waits for: the nodes of this graph that compute its inputs, including the names its If
        // branches read from here.
        var waitsFor = new List<int>[nodes.Count];
        var readers = new List<int>[nodes.Count];
        for (int i = 0; i < nodes.Count; i++) readers[i] = new List<int>();
        for (int i = 0; i < nodes.Count; i++)
        {
            waitsFor[i] = Reads(nodes[i]).Where(name => name.Length > 0 && !available.Contains(name) && producer.TryGetValue(name, out int p) && p != i)
                .Select(name => producer[name]).Distinct().ToList();
            foreach (int p in waitsFor[i]) readers[p].Add(i);
        }

        var pending = waitsFor.Select(w => w.Count).ToArray();
        var ready = new SortedSet<int>(Enumerable.Range(0, nodes.Count).Where(i => pending[i] == 0));
        var order = new List<NodeProto>(nodes.Count);
        var placed = new bool[nodes.Count];
        while (ready.Count > 0)
        {
            int next = ready.Min;
            ready.Remove(next);
            order.Add(nodes[next]);
            placed[next] = true;
            foreach (int reader in readers[next])
                if (--pending[reader] == 0) ready.Add(reader);
        }
        for (int i = 0; i < nodes.Count; i++)
            if (!placed[i]) order.Add(nodes[i]);
        return order;
    }

    /// <summary>The names a node reads: its inputs and, for a node with subgraphs, what those read from outside themselves.</summary>
    private static IEnumerable<string> Reads(NodeProto node)
    {
        foreach (string input in node.Input) yield return input;
        foreach (AttributeProto attribute in node.Attribute)
        {
            if (attribute.G is null) continue;
            var inner = new HashSet<string>(attribute.G.Node.SelectMany(n => n.Output), System.StringComparer.Ordinal);
            inner.UnionWith(attribute.G.Initializer.Select(t => t.Name));
            inner.UnionWith(attribute.G.Input.Select(v => v.Name));
            foreach (NodeProto innerNode in attribute.G.Node)
                foreach (string name in Reads(innerNode))
                    if (!inner.Contains(name)) yield return name;
        }
    }
}
