using System;
using System.Collections.Generic;
using Qtaml.Generators.Network;
using Qtaml.Generators.Planning;

namespace Qtaml.Generators.Emit;

/// <summary>
/// Kernels that are the same text share one method. Quantized dense layers: the kernel takes the layer's codes,
/// dequantization, channel scales and biases as parameters, so its body depends only on the layer's shape and fused
/// ReLU. Per-width bodies (<see cref="Kernels.VectorWidth.DispatchToMethods"/>) take their data as references and,
/// where constant sizes gain nothing (pointwise and depthwise convolutions, dense rows), their sizes as parameters
/// (<see cref="Kernels.ShapeArguments"/>), so the first layer of a blocking writes them and the others call them. A
/// network of thousands of equal layers then compiles one kernel, not thousands (the compiler's time grows with the
/// methods it binds), and each layer keeps only its data.
/// </summary>
internal sealed class SharedKernels
{
    /// <summary>Stands for the kernel's method name in its rendered text.</summary>
    public const string Placeholder = "__QTAML_KERNEL__";

    private readonly Dictionary<Layer, string> _kernelName = new();
    private readonly Dictionary<Layer, string> _text = new();
    private readonly Dictionary<Layer, string> _textOf = new();
    private readonly Dictionary<string, string> _nameOfText = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _users = new(StringComparer.Ordinal);

    /// <summary>
    /// The method that holds <paramref name="text"/>: <paramref name="name"/> if no kernel had it before
    /// (<paramref name="first"/> true: the caller writes it), else the method of the first kernel that had it.
    /// </summary>
    public string Share(string text, string name, out bool first)
    {
        first = !_nameOfText.TryGetValue(text, out string? known);
        if (first) _nameOfText.Add(text, name);
        return known ?? name;
    }

    /// <summary>Records a layer's rendered kernel; the first layer with a text names and writes it.</summary>
    public void Add(Layer layer, string method, string text)
    {
        _textOf[layer] = text;
        _kernelName[layer] = Share(text, method, out bool first);
        _users[text] = first ? 1 : _users[text] + 1;
        if (first) _text[layer] = text;
    }

    /// <summary>Whether this layer's kernel is written with it (it is the first of its text).</summary>
    public bool Writes(Layer layer) => _text.ContainsKey(layer);

    /// <summary>The kernel's text with <see cref="Placeholder"/> for its name.</summary>
    public string Text(Layer layer) => _text[layer];

    /// <summary>How many layers run this layer's kernel.</summary>
    public int Users(Layer layer) => _users[_textOf[layer]];

    /// <summary>The call of a layer's step: its shared kernel with its own data, or its own method.</summary>
    public string Call(Layer layer, string method, string? codes, string arguments) =>
        _kernelName.TryGetValue(layer, out string? kernel)
            ? kernel + "(" + codes + ", " + method + "_Scale, " + method + "_Bias, " + arguments + ")"
            : method + "(" + (codes is null ? "" : codes + ", ") + arguments + ")";
}
