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
}

/// <summary>
/// A diagnostic as values: its descriptor, the argument it is about and its message arguments. It names no
/// source location: the compile step that makes it must not depend on where the class is written, so the
/// location is looked up from <see cref="RequestLocations"/> when the diagnostic is reported.
/// </summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, Argument Where, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Argument where, params object[] arguments) =>
        new(descriptor, where, new EquatableArray<string>(arguments.Select(a => string.Format(System.Globalization.CultureInfo.InvariantCulture, "{0}", a))));

    /// <summary>The message as the user reads it.</summary>
    public string Message => string.Format(System.Globalization.CultureInfo.InvariantCulture, Descriptor.MessageFormat.ToString(System.Globalization.CultureInfo.InvariantCulture), Arguments.ToArray<object>());

    public Diagnostic ToDiagnostic(RequestLocations? locations) => Diagnostic.Create(Descriptor, locations?.For(Where)?.ToLocation(), Arguments.ToArray<object>());
}
