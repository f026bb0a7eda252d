using System;
using System.Collections.Generic;
using System.Globalization;

namespace Qtaml.Generators.Emit.Kernels;

/// <summary>
/// The shape constants of one kernel body. Written as constants, the body is its layer's alone (the JIT folds them
/// into the addressing); written as parameters, its text is the same for every layer of the same structure, so
/// layers of different sizes share one method (<see cref="SharedKernels"/>) and each call passes its own values.
/// <see cref="Of"/> gives the text to print either way; a body written as parameters must not let a value decide its
/// text.
/// </summary>
internal sealed class ShapeArguments
{
    private readonly List<(string Name, long Value)> _parameters = new();

    /// <param name="type">The parameters' type: <c>nuint</c> for kernels that index with it, <c>int</c> for those that count with ints.</param>
    public ShapeArguments(bool asParameters, string type = "nuint")
    {
        AsParameters = asParameters;
        _type = type;
    }

    private readonly string _type;

    /// <summary>Whether the constants are the method's parameters rather than literals in its text.</summary>
    public bool AsParameters { get; }

    /// <summary>The parameters recorded, in the order first met: the method's last parameters.</summary>
    public IReadOnlyList<(string Name, long Value)> Parameters => _parameters;

    /// <summary>The text of constant <paramref name="name"/> = <paramref name="value"/>: its literal, or its parameter's name.</summary>
    public string Of(string name, long value)
    {
        if (!AsParameters) return value.ToString(CultureInfo.InvariantCulture);
        int known = _parameters.FindIndex(p => p.Name == name);
        if (known < 0) _parameters.Add((name, value));
        else if (_parameters[known].Value != value)
            throw new InvalidOperationException("Shape parameter " + name + " given two values: " + _parameters[known].Value + " and " + value + ".");
        return name;
    }

    /// <summary>The parameters' declarations, each after a comma.</summary>
    public string Declarations()
    {
        var text = new System.Text.StringBuilder();
        foreach ((string name, _) in _parameters) text.Append(", ").Append(_type).Append(' ').Append(name);
        return text.ToString();
    }

    /// <summary>The values a call passes, each after a comma.</summary>
    public string Values()
    {
        var text = new System.Text.StringBuilder();
        foreach ((_, long value) in _parameters) text.Append(", ").Append(value.ToString(CultureInfo.InvariantCulture));
        return text.ToString();
    }
}
