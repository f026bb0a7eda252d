using System.Linq;
using Microsoft.CodeAnalysis;

namespace Qtaml.Generators.Model;

/// <summary>A diagnostic as values: its descriptor, location and message arguments.</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] arguments) =>
        new(descriptor, location, new EquatableArray<string>(arguments.Select(a => string.Format(System.Globalization.CultureInfo.InvariantCulture, "{0}", a))));

    public Diagnostic ToDiagnostic() => Diagnostic.Create(Descriptor, Location?.ToLocation(), Arguments.ToArray<object>());
}
