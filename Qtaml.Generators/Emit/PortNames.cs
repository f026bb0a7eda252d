using System.Collections.Generic;
using System.Linq;

namespace Qtaml.Generators.Emit;

/// <summary>The C# names of a model's graph inputs and outputs, shared by a compiled class and a failed one so both declare the same members.</summary>
internal static class PortNames
{
    /// <summary>
    /// C# parameter names for the graph's inputs and outputs, from their names in the file: identifier characters
    /// only, keywords prefixed with @, made distinct from each other and from the names Run uses itself.
    /// </summary>
    public static (string[] Inputs, string[] Outputs) Parameters(string[] inputs, string[] outputs)
    {
        var taken = new HashSet<string>(System.StringComparer.Ordinal) { "weights", "sample", "input", "output" };
        string Name(string file)
        {
            string name = Escape.Identifier(file);
            if (name.Length > 0 && char.IsUpper(name[0])) name = char.ToLowerInvariant(name[0]) + name.Substring(1);
            string unique = name;
            for (int n = 2; !taken.Add(unique); n++) unique = name + "_" + n;
            return Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetKeywordKind(unique) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None
                || Microsoft.CodeAnalysis.CSharp.SyntaxFacts.GetContextualKeywordKind(unique) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None ? "@" + unique : unique;
        }
        return (inputs.Select(Name).ToArray(), outputs.Select(Name).ToArray());
    }
}
