using System;
using System.Collections.Generic;

namespace Qtaml.Generators.Emit;

/// <summary>
/// Methods many steps call, each with its own sizes and constants as arguments: an element-wise map over n values is
/// the same loop for every layer that applies it, so it is written once per class, not once per layer (a text
/// recogniser's 200 element-wise steps were 390 KB of C# as kernels of their own). A helper is rendered with
/// <see cref="SharedKernels.Placeholder"/> for its name, at no indentation; equal texts share one method, named for what it computes.
/// </summary>
internal sealed class SharedHelpers
{
    private readonly Dictionary<string, string> _nameOfText = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly List<(string Name, string Text)> _helpers = new();

    /// <summary>
    /// The name of the helper <paramref name="write"/> renders (with <see cref="SharedKernels.Placeholder"/> for its
    /// name): <paramref name="name"/>, or a name given to the same text before; a different text met under the same
    /// name is numbered (Name2, Name3...).
    /// </summary>
    public string Use(string name, Action<SourceWriter> write)
    {
        var writer = new SourceWriter();
        write(writer);
        string text = writer.ToString();
        if (_nameOfText.TryGetValue(text, out string? known)) return known;
        string unique = name;
        for (int n = 2; !_names.Add(unique); n++) unique = name + n;
        _nameOfText.Add(text, unique);
        _helpers.Add((unique, text));
        return unique;
    }

    /// <summary>Writes every helper used, in the order first used, at the writer's indentation.</summary>
    public void WriteAll(SourceWriter w)
    {
        string indent = new(' ', w.Indent * 4);
        foreach ((string name, string text) in _helpers)
        {
            foreach (string line in text.Replace(SharedKernels.Placeholder, name).Split('\n'))
                if (line.Length > 0) w.Raw(indent + line + "\n");
            w.Line();
        }
    }
}
