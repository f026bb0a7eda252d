namespace Qtaml.Generators.Model;

/// <summary>
/// What one <c>[TunnelingCompensated]</c> class asks for, as plain values: the class's name and place, the
/// attribute's arguments, and where each argument is written (for diagnostics on the argument that is wrong).
/// </summary>
internal sealed record ModelRequest(
    string? Namespace,
    string ClassName,
    string Accessibility,
    bool IsStatic,
    bool IsPartial,
    string? ModelPath,
    string? Node,
    int? Bits,
    double? EccBudget,
    double? FlipProbability,
    double? RetentionMilliseconds,
    double? HoldVolts,
    double? ReverseLeakRatio,
    int? Allocator,
    bool Quantize,
    LocationInfo? ClassLocation,
    LocationInfo? PathLocation,
    LocationInfo? NodeLocation,
    LocationInfo? BitsLocation,
    LocationInfo? BudgetLocation,
    LocationInfo? FlipProbabilityLocation,
    LocationInfo? NodeParameterLocation,
    double? InputMeanSquare = null,
    LocationInfo? InputMeanSquareLocation = null)
{
    /// <summary>The stable hint name: {Namespace}.{Type}.g.cs.</summary>
    public string HintName => (Namespace is null ? ClassName : Namespace + "." + ClassName) + ".g.cs";
}

/// <summary>A weight file as the compiler sees it: the original file's path and its bytes as base64 text.</summary>
internal sealed record WeightFileText(string Path, string Base64);

/// <summary>Project-wide defaults from MSBuild (QtamlNode, QtamlBits, QtamlEccBudget, QtamlRetentionMs, QtamlHoldVolts, QtamlReverseLeakRatio).</summary>
internal sealed record BuildDefaults(string? Node, int? Bits, double? EccBudget, double? RetentionMilliseconds = null, double? HoldVolts = null, double? ReverseLeakRatio = null);

/// <summary>The generator's answer for one class: the source to add (if any) and the diagnostics to report.</summary>
internal sealed record GenerationResult(string HintName, string? Source, EquatableArray<DiagnosticInfo> Diagnostics);
