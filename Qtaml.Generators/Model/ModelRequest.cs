namespace Qtaml.Generators.Model;

/// <summary>
/// What one <c>[TunnelingCompensated]</c> type asks for, as plain values: the type and the attribute's arguments.
/// It holds no source locations (those travel apart, in <see cref="RequestLocations"/>), so moving the class
/// in its file does not re-run the expensive compile step that takes this as input.
/// </summary>
internal sealed record ModelRequest(
    TypeTarget Target,
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
    double? InputMeanSquare,
    string? InputShape = null,
    string? ConstantInputs = null,
    int? OperatingPoint = null,
    int? Encoding = null,
    string? Calibration = null,
    double? TargetAgreement = null)
{
    /// <summary>A request with every argument at its default, for a public static partial class <c>Model</c>: tests and the fuzz target.</summary>
    public static ModelRequest ForFile(string path, int bits = 8, double budget = 1.0) =>
        new(TypeTarget.StaticClass(null, "Model"), path, null, bits, budget, null, null, null, null, null, true, null);
}

/// <summary>A type that declares this one: its keyword, name and type parameter list.</summary>
internal sealed record ContainingType(string Keyword, string Name, string TypeParameters, bool IsPartial);

/// <summary>
/// The attributed type as the emitter must re-declare it: namespace, containing types (outermost first), its
/// keyword ("class", "struct", "record", "record struct", "interface"), name and type parameters.
/// <see cref="Unsupported"/> says why the generator cannot compile a model into it, or is null.
/// </summary>
internal sealed record TypeTarget(
    string? Namespace,
    EquatableArray<ContainingType> Containers,
    string Keyword,
    string Name,
    string TypeParameters,
    bool IsStatic,
    bool IsPartial,
    string? Unsupported)
{
    public static TypeTarget StaticClass(string? ns, string name) => new(ns, EquatableArray<ContainingType>.Empty, "class", name, "", true, true, null);

    /// <summary>The type's name with its containing types, as C# writes it: <c>Outer.Inner</c>.</summary>
    public string DisplayName
    {
        get
        {
            var name = new System.Text.StringBuilder();
            foreach (ContainingType container in Containers) name.Append(container.Name).Append(container.TypeParameters).Append('.');
            return name.Append(Name).Append(TypeParameters).ToString();
        }
    }

    /// <summary>The stable, unique hint name: {Namespace}.{Outer}.{Type}.g.cs, a generic type's arity after a '`'.</summary>
    public string HintName
    {
        get
        {
            var name = new System.Text.StringBuilder();
            if (Namespace is not null) name.Append(Namespace).Append('.');
            foreach (ContainingType container in Containers) name.Append(container.Name).Append(Arity(container.TypeParameters)).Append('.');
            return name.Append(Name).Append(Arity(TypeParameters)).Append(".g.cs").ToString();
        }
    }

    /// <summary>Whether the emitter can write a partial declaration of this type at all (a body that throws, at least).</summary>
    public bool CanDeclare => IsPartial && Keyword != "interface" && System.Linq.Enumerable.All(Containers, c => c.IsPartial);

    private static string Arity(string typeParameters) =>
        typeParameters.Length == 0 ? "" : "`" + (typeParameters.Split(',').Length).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Where each argument of a request is written, for diagnostics on the argument that is wrong.</summary>
internal sealed record RequestLocations(
    LocationInfo? Class,
    LocationInfo? Path,
    LocationInfo? Node,
    LocationInfo? Bits,
    LocationInfo? Budget,
    LocationInfo? FlipProbability,
    LocationInfo? NodeParameter,
    LocationInfo? InputMeanSquare,
    LocationInfo? Allocator,
    LocationInfo? InputShape = null,
    LocationInfo? Encoding = null,
    LocationInfo? Calibration = null,
    LocationInfo? TargetAgreement = null)
{
    public LocationInfo? For(Argument argument) => argument switch
    {
        Argument.Path => Path,
        Argument.Node => Node,
        Argument.Bits => Bits,
        Argument.Budget => Budget,
        Argument.FlipProbability => FlipProbability,
        Argument.NodeParameter => NodeParameter,
        Argument.InputMeanSquare => InputMeanSquare,
        Argument.Allocator => Allocator,
        Argument.InputShape => InputShape,
        Argument.Encoding => Encoding,
        Argument.Calibration => Calibration,
        Argument.TargetAgreement => TargetAgreement,
        _ => Class,
    };
}

/// <summary>An attributed type as the syntax step finds it: the request and where its parts are written.</summary>
internal sealed record AttributedType(ModelRequest Request, RequestLocations Locations);

/// <summary>
/// A weight file (or calibration file) as the compiler sees it: the original file's path, its bytes as base64 text,
/// and what MSBuild metadata sets on it (QtamlInputShape, QtamlConstantInputs, QtamlCalibration), which the
/// attribute's arguments override. A file the build step would not encode (<see cref="TooLargeBytes"/>) has no base64.
/// </summary>
internal sealed record WeightFileText(string Path, string Base64, string? InputShape = null, string? ConstantInputs = null, string? Calibration = null)
{
    /// <summary>The file's size when the build step found it larger than it encodes (and the limit), else null.</summary>
    public (long Bytes, long Limit)? TooLargeBytes { get; init; }
}

/// <summary>Project-wide defaults from MSBuild (QtamlNode, QtamlBits, QtamlEccBudget, QtamlRetentionMs, QtamlHoldVolts, QtamlReverseLeakRatio).</summary>
internal sealed record BuildDefaults(string? Node, int? Bits, double? EccBudget, double? RetentionMilliseconds = null, double? HoldVolts = null, double? ReverseLeakRatio = null);

/// <summary>
/// The compile step's whole input for one type: its request, what the lookup of its weight file found (the one
/// file, or why there is none) and the MSBuild defaults. Editing another class's weight file leaves this equal,
/// so the step stays cached.
/// </summary>
internal sealed record CompileInput(ModelRequest Request, Parsing.WeightFileMatch File, BuildDefaults Defaults, Parsing.WeightFileMatch? CalibrationFile = null)
{
    public CompileInput(ModelRequest request, WeightFileText file, BuildDefaults defaults, WeightFileText? calibration = null)
        : this(request, Parsing.WeightFileMatch.Found(file), defaults, calibration is null ? null : Parsing.WeightFileMatch.Found(calibration)) { }
}

/// <summary>The generator's answer for one type: the source to add (if any) and the diagnostics to report, located by argument.</summary>
internal sealed record GenerationResult(string HintName, string? Source, EquatableArray<DiagnosticInfo> Diagnostics);
