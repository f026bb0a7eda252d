using Qtaml.Tool.Cli;
using Spectre.Console;

// qtaml: inspect a model, run fault campaigns over the code Qtaml generates for it. See `qtaml --help`.
// Written to a file or a CI log, tables keep a fixed width of 160 columns instead of wrapping at 80.
if (Console.IsOutputRedirected) AnsiConsole.Console.Profile.Width = 160;
return QtamlCli.Run(args, AnsiConsole.Console, Console.Error);
