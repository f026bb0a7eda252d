using System.CommandLine;
using Qtaml.Tool.Build;
using Spectre.Console;

namespace Qtaml.Tool.Cli;

/// <summary>The qtaml command line: its commands, its exit codes and how errors reach the user.</summary>
internal static class QtamlCli
{
    public static RootCommand Create(IAnsiConsole console)
    {
        var root = new RootCommand("""
            qtaml: how much ECC does a neural network need on memory that leaks?

            It compiles the model with the Qtaml source generator, exactly as a build would, and either reports what the
            build knows (inspect) or runs fault campaigns over the compiled code (campaign).

            Exit codes: 0 done; 1 a file could not be used or the model did not compile; 2 a wrong command line.
            """);
        root.Subcommands.Add(InspectCommand.Create(console));
        root.Subcommands.Add(CampaignCommand.Create(console));
        root.Subcommands.Add(CalibrationCommand.Create(console));
        // Help wraps its own columns (with their indentation) at the console's width, so the console never has to
        // break a line mid-sentence; a terminal narrower than 60 columns still gets readable help.
        foreach (var help in root.Options.OfType<System.CommandLine.Help.HelpOption>())
            if (help.Action is System.CommandLine.Help.HelpAction action) action.MaxWidth = Math.Max(60, console.Profile.Width - 1);
        return root;
    }

    /// <summary>Parses and runs a command line; usage errors print what was wrong and end with exit code 2.</summary>
    public static int Run(string[] args, IAnsiConsole console, TextWriter error)
    {
        ParseResult parse = Create(console).Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors) error.WriteLine("qtaml: " + problem.Message);
            error.WriteLine("Run 'qtaml --help' (or 'qtaml <command> --help') for the options.");
            return ExitCodes.UsageError;
        }
        return parse.Invoke(new InvocationConfiguration { Output = new ConsoleWriter(console), Error = error });
    }

    /// <summary>Runs a command's action, turning the errors a user can fix into a message and an exit code.</summary>
    public static int Guard(IAnsiConsole console, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (ToolException problem)
        {
            console.MarkupLine("[red]qtaml:[/] " + Markup.Escape(problem.Message));
            return problem.ExitCode;
        }
        catch (BuildFailedException failed)
        {
            console.MarkupLine("[red]qtaml:[/] the model did not compile. The build reports:");
            InspectCommand.WriteDiagnostics(console, failed.Diagnostics);
            return ExitCodes.InputError;
        }
    }

    /// <summary>Help text written through the console, so tests and redirected output see it like everything else.</summary>
    private sealed class ConsoleWriter(IAnsiConsole console) : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value) => console.Write(value.ToString());

        public override void Write(string? value) => console.Write(value ?? "");
    }
}
