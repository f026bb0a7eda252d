using System.Linq;
using Microsoft.CodeAnalysis;

namespace Qtaml.Generators.Model;

/// <summary>The part of an attributed type a diagnostic is reported on.</summary>
internal enum Argument
{
    Class,
    Path,
    Node,
    Bits,
    Budget,
    FlipProbability,
    NodeParameter,
    InputMeanSquare,
    Allocator,
    InputShape,
    Encoding,
    Calibration,
    TargetAgreement,
}

/// <summary>
/// A diagnostic as values: its descriptor, the argument it is about and its message arguments. It names no
/// source location: the compile step that makes it must not depend on where the class is written, so the
/// location is looked up from <see cref="RequestLocations"/> when the diagnostic is reported.
/// </summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, Argument Where, EquatableArray<string> Arguments, string? Replacement = null)
{
    /// <summary>The diagnostic property a code fix reads: C# text to put in place of the argument the diagnostic is on.</summary>
    public const string ReplacementProperty = "QtamlReplacement";

    /// <summary>The same diagnostic with a suggested replacement for its argument (a code fix offers it).</summary>
    public DiagnosticInfo WithReplacement(string? replacement) => this with { Replacement = replacement };

    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Argument where, params object[] arguments) =>
        new(descriptor, where, new EquatableArray<string>(arguments.Select(a => string.Format(System.Globalization.CultureInfo.InvariantCulture, "{0}", a))));

    /// <summary>The message as the user reads it.</summary>
    public string Message => string.Format(System.Globalization.CultureInfo.InvariantCulture, Descriptor.MessageFormat.ToString(System.Globalization.CultureInfo.InvariantCulture), Arguments.ToArray<object>());

    /// <summary>The diagnostic property naming the attribute argument it is on (Path, Node, EccBudget, ...), for a code fix that adds a missing one.</summary>
    public const string ArgumentProperty = "QtamlArgument";

    public Diagnostic ToDiagnostic(RequestLocations? locations, Compilation? compilation = null)
    {
        var properties = System.Collections.Immutable.ImmutableDictionary<string, string?>.Empty;
        if (ArgumentName(Where) is string name) properties = properties.Add(ArgumentProperty, name);
        if (Replacement is not null) properties = properties.Add(ReplacementProperty, Replacement);
        return Diagnostic.Create(Descriptor, locations?.For(Where)?.ToLocation(compilation), properties, Arguments.ToArray<object>());
    }

    /// <summary>The attribute's name for an argument: "" for the path (positional), none for the class itself.</summary>
    private static string? ArgumentName(Argument argument) => argument switch
    {
        Argument.Path => "",
        Argument.Budget => "EccBudget",
        Argument.NodeParameter => "RetentionMilliseconds",
        Argument.Class => null,
        _ => argument.ToString(),
    };
}
