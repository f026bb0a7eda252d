using System.CommandLine;
using System.Globalization;
using Qtaml.Physics;
using Qtaml.Tool.Build;

namespace Qtaml.Tool.Cli;

/// <summary>The model argument and the options inspect and campaign share, with their checks.</summary>
internal sealed class CommonOptions
{
    public Argument<string> Model { get; } = new("model") { Description = "The trained model: an .onnx or .safetensors file." };

    public Option<string?> Node { get; } = new("--node") { Description = "A process node whose tunneling physics sets the flips: " + string.Join(", ", NodePresets.Names) + "." };

    public Option<double?> PFlip { get; } = new("--p-flip") { Description = "A static symmetric flip probability p10 = p01 = p in [0, 0.5), as in the paper (0.10 for CNNs, 0.05 for the encoder)." };

    public Option<int> Bits { get; } = new("--bits") { Description = "Bits per stored weight, 2 to 16.", DefaultValueFactory = _ => 8 };

    public Option<string?> Calibration { get; } = new("--calibration") { Description = "Unlabeled inputs like the app's (.npy, shape [N, ...input]): measured sensitivities and a forecast of the decisions kept." };

    public Option<string?> InputShape { get; } = new("--input-shape") { Description = "The input shape, such as 1,28,28, for a .safetensors file (which has no graph to say it)." };

    public Option<bool> NoCache { get; } = new("--no-cache") { Description = "Compile the model even if the build cache holds it ($QTAML_CACHE, else qtaml/build-cache in the local application data; 1 GiB at most, least recently used entries removed first)." };

    /// <summary>The build cache to use: none with --no-cache.</summary>
    public BuildCache? Cache(ParseResult parse) => parse.GetValue(NoCache) ? null : BuildCache.Default;

    public void AddTo(Command command, bool faultsRequired)
    {
        if (!faultsRequired) Node.Description += " [default: 2nm, unless --p-flip is given]";
        command.Arguments.Add(Model);
        foreach (Option option in new Option[] { Node, PFlip, Bits, Calibration, InputShape, NoCache }) command.Options.Add(option);
        command.Validators.Add(result =>
        {
            bool node = result.GetValue(Node) is not null, p = result.GetValue(PFlip) is not null;
            if (node && p) result.AddError("Give --node or --p-flip, not both: a node's physics sets its own flip probabilities.");
            else if (faultsRequired && !node && !p) result.AddError("Say which faults to inject: --node 2nm (a process node) or --p-flip 0.1 (a static flip probability).");
        });
    }

    /// <summary>The fault environment asked for (a default of 2nm when none is, for inspect).</summary>
    public FaultEnvironment Faults(ParseResult parse)
    {
        string? node = parse.GetValue(Node);
        if (node is not null)
        {
            if (!NodePresets.TryGet(node, out NodePreset preset))
                throw ToolException.Usage($"Unknown node '{node}'. Known nodes: {string.Join(", ", NodePresets.Names)}.");
            return new FaultEnvironment(preset.Name, 0);
        }
        double? p = parse.GetValue(PFlip);
        if (p is double probability)
        {
            if (!(probability >= 0 && probability < 0.5)) throw ToolException.Usage($"--p-flip must be in [0, 0.5); got {probability.ToString(CultureInfo.InvariantCulture)}.");
            return new FaultEnvironment(null, probability);
        }
        return new FaultEnvironment("2nm", 0);
    }

    public BuildRequest Request(ParseResult parse, double budget, double targetAgreement = 0.95)
    {
        int bits = parse.GetValue(Bits);
        if (bits < 2 || bits > 16) throw ToolException.Usage($"--bits must be 2 to 16; got {bits}.");
        string model = parse.GetValue(Model)!;
        string extension = Path.GetExtension(model).ToLowerInvariant();
        if (extension is not (".onnx" or ".safetensors"))
            throw new ToolException($"'{model}' is not an .onnx or .safetensors file; qtaml reads those two formats.");
        string? shape = parse.GetValue(InputShape);
        if (shape is not null && !System.Text.RegularExpressions.Regex.IsMatch(shape, "^[0-9]+( *, *[0-9]+)*$"))
            throw ToolException.Usage($"--input-shape '{shape}' is not a list of sizes such as 1,28,28.");
        string? calibration = parse.GetValue(Calibration);
        return new BuildRequest(model, ToolFiles.Read(model, "model"), Faults(parse), bits, budget,
            calibration, calibration is null ? null : ToolFiles.Read(calibration, "calibration"), shape, targetAgreement);
    }
}
