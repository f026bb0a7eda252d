using Qtaml.Tool.Cli;
using Spectre.Console;

// qtaml: inspect a model, run fault campaigns over the code Qtaml generates for it. See `qtaml --help`.
return QtamlCli.Run(args, AnsiConsole.Console, Console.Error);
