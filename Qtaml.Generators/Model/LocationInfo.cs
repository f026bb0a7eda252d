using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Qtaml.Generators.Model;

/// <summary>A source location reduced to values (file path and span), so it can travel through the pipeline.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public static LocationInfo? From(SyntaxNode? node) => From(node?.GetLocation());

    public static LocationInfo? From(Location? location) =>
        location?.SourceTree is null ? null : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);

    /// <summary>The location in the compilation's syntax tree of that file when there is one (a source location), else by path.</summary>
    public Location ToLocation(Compilation? compilation = null)
    {
        if (compilation is not null)
            foreach (SyntaxTree tree in compilation.SyntaxTrees)
                if (tree.FilePath == FilePath && Span.End <= tree.Length) return Location.Create(tree, Span);
        return Location.Create(FilePath, Span, LineSpan);
    }
}
