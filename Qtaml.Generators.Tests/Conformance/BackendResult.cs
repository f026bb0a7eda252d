namespace Qtaml.Generators.Tests.Conformance;

internal enum Outcome
{
    /// <summary>Compiled, and every output agrees with the reference within the tolerance.</summary>
    Pass,

    /// <summary>Not compiled: the generator reported an error diagnostic (which is a precise, expected outcome).</summary>
    Diagnostic,

    /// <summary>Compiled, and an output disagrees with the reference: a wrong answer, which must never happen.</summary>
    Wrong,

    /// <summary>Not applicable (an 8-bit build of a model with no weights to quantize).</summary>
    None,
}

/// <summary>What one build of one backend test came to, and the detail that explains it.</summary>
internal sealed record BuildResult(Outcome Outcome, string Detail)
{
    public static BuildResult NotApplicable { get; } = new(Outcome.None, "no weights to quantize");

    public string Cell => Outcome switch
    {
        Outcome.Pass => "pass (" + Detail + ")",
        Outcome.Diagnostic => Detail,
        Outcome.Wrong => "**WRONG**: " + Detail,
        _ => "-",
    };
}

/// <summary>A backend test's float and 8-bit builds.</summary>
internal sealed record BackendResult(BackendCase Case, string[] Operators, long Opset, BuildResult Float, BuildResult Quantized);
