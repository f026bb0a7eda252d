using System.Globalization;
using Qtaml.Tool.Cli;
using Spectre.Console;

namespace Qtaml.Generators.Tests.Tool;

/// <summary>The qtaml command line run in process, its console and error output captured (no colours, 220 columns).</summary>
internal static class QtamlRunner
{
    public static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 220;
        int code = QtamlCli.Run(args, console, error);
        return (code, output.ToString(), error.ToString());
    }
}
