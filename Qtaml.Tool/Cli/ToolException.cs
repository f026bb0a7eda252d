namespace Qtaml.Tool.Cli;

/// <summary>The exit codes of qtaml, as its --help states them.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>A file could not be used (missing, unreadable, hostile) or the model did not compile.</summary>
    public const int InputError = 1;

    /// <summary>The command line is wrong (an unknown option, a missing or out-of-range value).</summary>
    public const int UsageError = 2;
}

/// <summary>An error the user can fix, with the exit code it ends the tool with; its message says what to do.</summary>
internal sealed class ToolException(string message, int exitCode = ExitCodes.InputError) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public static ToolException Usage(string message) => new(message, ExitCodes.UsageError);
}
