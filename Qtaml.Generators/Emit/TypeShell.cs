using System;
using System.Collections.Generic;
using Qtaml.Generators.Model;

namespace Qtaml.Generators.Emit;

/// <summary>
/// Re-declares the attributed type where the user wrote it: its namespace, every containing type (a nested
/// class gets its members inside the same outer classes, not as a new top-level class) and the type itself,
/// partial, with the ICompiledModel interface on a class that can implement it. Names come from the user's
/// own C# declarations, which are identifiers already.
/// </summary>
internal static class TypeShell
{
    /// <summary>Writes the opening lines; disposing the result closes every brace it opened.</summary>
    public static IDisposable Open(SourceWriter w, TypeTarget target, string generatorVersion, string summary)
    {
        var closers = new List<IDisposable>();
        // A block, not a file-scoped namespace: the implementation follows in a namespace of its own.
        if (target.Namespace is not null) closers.Add(w.Block("namespace " + target.Namespace));
        foreach (ContainingType container in target.Containers)
            closers.Add(w.Block("partial " + container.Keyword + " " + container.Name + container.TypeParameters));

        w.Line("/// <summary>");
        w.Line("/// " + summary);
        w.Line("/// </summary>");
        w.Line("[global::System.CodeDom.Compiler.GeneratedCode(\"Qtaml.Generators\", \"" + generatorVersion + "\")]");
        string declaration = (target.IsStatic ? "static " : "") + "partial " + target.Keyword + " " + target.Name + target.TypeParameters
            + (target.IsStatic ? "" : " : global::Qtaml.ICompiledModel");
        closers.Add(w.Block(declaration));
        return new Closer(closers);
    }

    /// <summary>
    /// The static members every compiled model has (the <c>ICompiledModel</c> surface), as signature and the
    /// arguments a forwarding call passes: the adapter below forwards them, a failed model's stub throws in them.
    /// </summary>
    public static readonly (string Signature, string? Arguments)[] InterfaceMembers =
    {
        ("int InputLength", null),
        ("int OutputLength", null),
        ("global::Qtaml.ModelInfo Info", null),
        ("void Run(global::System.ReadOnlySpan<float> input, global::System.Span<float> output)", "input, output"),
        ("void Run(global::Qtaml.Faults.WeightImage weights, global::System.ReadOnlySpan<float> input, global::System.Span<float> output)", "weights, input, output"),
        ("void Run(global::System.ReadOnlySpan<float> input, global::System.Span<float> output, global::Qtaml.Threading.WorkerPool workers)", "input, output, workers"),
        ("void Run(global::Qtaml.Faults.WeightImage weights, global::System.ReadOnlySpan<float> input, global::System.Span<float> output, global::Qtaml.Threading.WorkerPool workers)", "weights, input, output, workers"),
        ("global::Qtaml.Faults.WeightImage CreateWeightImage()", ""),
        ("global::Qtaml.Plans.QuantizedModel Quantized", null),
    };

    /// <summary>The member's name: the last word before its parameter list.</summary>
    public static string MemberName(string signature)
    {
        int end = signature.IndexOf('(');
        string head = end < 0 ? signature : signature.Substring(0, end);
        return head.Substring(head.LastIndexOf(' ') + 1);
    }

    /// <summary>
    /// A static class cannot implement an interface, so a static model gets a nested type that does, for code
    /// that is generic over models (<c>where T : ICompiledModel</c>).
    /// </summary>
    public static void WriteInterfaceAdapter(SourceWriter w, TypeTarget target)
    {
        string name = target.Name + target.TypeParameters;
        w.Line("/// <summary>" + target.Name + " as an <see cref=\"global::Qtaml.ICompiledModel\"/>, for code generic over models.</summary>");
        using (w.Block("public sealed class Compiled : global::Qtaml.ICompiledModel"))
        {
            w.Line("private Compiled() { }");
            w.Line();
            foreach ((string signature, string? arguments) in InterfaceMembers)
            {
                w.Line("/// <inheritdoc/>");
                w.Line("public static " + signature + " => " + name + "." + MemberName(signature) + (arguments is null ? "" : "(" + arguments + ")") + ";");
            }
        }
        w.Line();
    }

    private sealed class Closer : IDisposable
    {
        private readonly List<IDisposable> _blocks;

        public Closer(List<IDisposable> blocks) => _blocks = blocks;

        public void Dispose()
        {
            for (int i = _blocks.Count - 1; i >= 0; i--) _blocks[i].Dispose();
        }
    }
}
