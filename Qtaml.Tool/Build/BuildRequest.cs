using System.Globalization;
using Microsoft.CodeAnalysis.CSharp;

namespace Qtaml.Tool.Build;

/// <summary>How the fault environment is named: a process node's physics, or a static symmetric flip probability.</summary>
/// <param name="Node">A node preset (2nm, 3nm...), or null.</param>
/// <param name="FlipProbability">p10 = p01 = p, when <paramref name="Node"/> is null.</param>
internal sealed record FaultEnvironment(string? Node, double FlipProbability)
{
    public string Describe() => Node is not null ? "node " + Node : "p_flip = " + FlipProbability.ToString("0.###", CultureInfo.InvariantCulture);
}

/// <summary>
/// What the tool asks the generator to compile: the attribute a user would write, for each encoding wanted, and the
/// unquantized reference. Only values the tool checked, or escaped as C# literals, reach the source.
/// </summary>
internal sealed record BuildRequest(string ModelFile, byte[] ModelBytes, FaultEnvironment Faults, int Bits, double Budget,
    string? CalibrationFile = null, byte[]? CalibrationBytes = null, string? InputShape = null, double TargetAgreement = 0.95)
{
    /// <summary>The model's path as the attribute names it: a fixed name with the file's extension (the format is told by it).</summary>
    public string ProjectPath => "model" + Path.GetExtension(ModelFile).ToLowerInvariant();

    public const string CalibrationProjectPath = "calibration.npy";

    /// <summary>The zero-based line of <see cref="Source"/> that holds its first class, the shipped build (after the using and the namespace).</summary>
    public const int FirstClassLine = 2;

    /// <summary>The class name of the build in <paramref name="encoding"/>, or of the unquantized reference (null).</summary>
    public static string ClassName(WeightEncoding? encoding) => encoding is null ? "ModelFloat" : "Model" + encoding;

    /// <summary>The C# the generator reads: one attributed partial class per encoding (Automatic: the build's own choice), and the float reference.</summary>
    public string Source(IEnumerable<WeightEncoding> encodings)
    {
        string Literal(string text) => SymbolDisplay.FormatLiteral(text, quote: true);
        string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
        var common = new List<string> { "Bits = " + Bits, "EccBudget = " + Number(Budget), "TargetAgreement = " + Number(TargetAgreement) };
        common.Add(Faults.Node is not null ? "Node = " + Literal(Faults.Node) : "FlipProbability = " + Number(Faults.FlipProbability));
        if (CalibrationBytes is not null) common.Add("Calibration = " + Literal(CalibrationProjectPath));
        if (InputShape is not null) common.Add("InputShape = " + Literal(InputShape));
        var lines = new List<string> { "using Qtaml;", "namespace Qtaml.Tool.Generated;" };
        foreach (WeightEncoding encoding in encodings)
            lines.Add("[TunnelingCompensated(" + Literal(ProjectPath) + ", " + string.Join(", ", common) + ", Encoding = WeightEncoding." + encoding + ")] public sealed partial class " + ClassName(encoding) + " { }");
        lines.Add("[TunnelingCompensated(" + Literal(ProjectPath) + ", Quantize = false" + (InputShape is not null ? ", InputShape = " + Literal(InputShape) : "") + ")] public sealed partial class " + ClassName(null) + " { }");
        return string.Join("\n", lines) + "\n";
    }
}
