using System.Collections.Generic;
using System.Linq;

namespace Qtaml.Generators.Network;

/// <summary>
/// The text of the unsupported-operator diagnostic: every operator a model uses that Qtaml cannot compile, with
/// how many nodes use it and their names, so a user sees the whole list in one build, not one per build.
/// </summary>
internal static class UnsupportedOperators
{
    private const int NamesShown = 5;

    public static ModelReadException Exception(string path, IReadOnlyList<(string Operator, string Node)> uses, string supported) =>
        new(Diagnostics.UnsupportedOperator, path, Describe(uses), supported);

    /// <summary>"the operator 'X' (node 'a')" or "3 operators: 'X' (2 nodes: 'a', 'b'), 'Y' (node 'c')", in order of first use.</summary>
    public static string Describe(IReadOnlyList<(string Operator, string Node)> uses)
    {
        var byOperator = uses.GroupBy(u => u.Operator).ToArray();
        string Entry(IGrouping<string, (string Operator, string Node)> group)
        {
            string[] nodes = group.Select(u => "'" + u.Node + "'").ToArray();
            string shown = string.Join(", ", nodes.Take(NamesShown)) + (nodes.Length > NamesShown ? ", ..." : "");
            return "'" + group.Key + "' (" + (nodes.Length == 1 ? "node " + shown : nodes.Length + " nodes: " + shown) + ")";
        }
        return byOperator.Length == 1
            ? "the operator " + Entry(byOperator[0])
            : byOperator.Length + " operators " + string.Join(", ", byOperator.Select(Entry));
    }
}
