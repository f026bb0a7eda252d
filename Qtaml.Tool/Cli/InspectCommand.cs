using System.CommandLine;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Qtaml.Physics;
using Qtaml.Plans;
using Qtaml.Tac;
using Qtaml.Tool.Build;
using Spectre.Console;

namespace Qtaml.Tool.Cli;

/// <summary>
/// <c>qtaml inspect</c>: what a build of the model reports, from the generator a build runs: the layer table with
/// sensitivities and the planes a budget protects, the budget each allocator needs (to reach the quantization noise
/// floor, and with calibration inputs for the target share of decisions), rho*, and the build's diagnostics.
/// </summary>
internal static class InspectCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var common = new CommonOptions();
        var budget = new Option<double>("--budget") { Description = "The ECC budget to plan, in protected bits per weight.", DefaultValueFactory = _ => 1.0 };
        var command = new Command("inspect", "Show a model's layers, sensitivities, the ECC budget each allocator needs, rho* and the build's diagnostics.");
        common.AddTo(command, faultsRequired: false);
        command.Options.Add(budget);
        command.SetAction(parse => QtamlCli.Guard(console, () => Run(console, common, parse, parse.GetValue(budget))));
        return command;
    }

    private static int Run(IAnsiConsole console, CommonOptions common, ParseResult parse, double budget)
    {
        BuildRequest request = common.Request(parse, budget);
        if (!(budget >= 0 && budget <= request.Bits)) throw ToolException.Usage($"--budget must be between 0 and {request.Bits} (every plane protected); got {budget.ToString(CultureInfo.InvariantCulture)}.");
        BuiltModel built = InProcessBuild.Build(request, Array.Empty<WeightEncoding>(), common.Cache(parse));
        ModelInfo info = built.Shipped.Info;
        QuantizedModel model = built.Shipped.Quantized;

        console.MarkupLineInterpolated($"[bold]{request.ModelFile}[/] for {request.Faults.Describe()}: {info.Bits}-bit {Encoding(info)}, {model.WeightCount:N0} weights in {info.Layers.Count} layers");
        console.MarkupLineInterpolated($"  flips p10 = {G(info.WindowEndP10)}, p01 = {G(info.WindowEndP01)}{(info.HasWindow ? $" at the end of the retention window; codes compensated for the {info.OperatingPoint.Describe()} (p10 = {G(info.P10)})" : ", static")}");
        var layers = new Table().AddColumns("layer", "operator", "weights", "sensitivity G", $"protected at {G(budget)} (TAC)");
        foreach (LayerInfo layer in info.Layers)
            layers.AddRow(Markup.Escape(layer.Name), Markup.Escape(layer.Operator), layer.WeightCount.ToString("N0", CultureInfo.InvariantCulture), G(layer.Sensitivity), layer.ProtectedPlanes + " of " + info.Bits);
        console.Write(layers);

        SaturationReport floor = model.Problem(new FlipProbabilities(info.P10, info.P01)).Saturation();
        var budgets = new Table().AddColumns("budget needed (bits/weight)", "TAC", "Uniform-MSP", "magnitude-based", "rho*");
        budgets.AddRow("to reach the quantization noise floor D_q = " + G(floor.NoiseFloor), B(floor.TacBudget), B(floor.UniformMspBudget), B(floor.MagnitudeBasedBudget), R(floor.Rho));
        if (info.Forecast is { } forecast)
            budgets.AddRow($"to keep {Text.Percent(forecast.TargetAgreement, 0)} of decisions (calibrated on {forecast.Samples} inputs)", B(forecast.TacBudget), B(forecast.UniformMspBudget), B(forecast.MagnitudeBudget), R(forecast.Rho));
        console.Write(budgets);
        // A recogniser's decisions are its rows' (the forecast and a campaign count them so): say so beside the share.
        string decisions = info.Decisions is { } rows ? $" ({rows.Positions} per input, one per row of the final softmax, each among {rows.Classes:N0} classes)" : "";
        if (info.Forecast is { } f)
            console.MarkupLineInterpolated($"At {G(budget)} bits/weight TAC is predicted to keep {Text.Percent(f.PredictedAgreement, 1)} of decisions{decisions} ({Text.Percent(f.Ceiling, 1)} with every plane protected).");
        else
        {
            if (decisions.Length > 0) console.MarkupLineInterpolated($"Decisions{decisions}.");
            console.MarkupLine("No calibration inputs: the budgets are a data-free bound. Give [bold]--calibration inputs.npy[/] for a forecast of the decisions kept.");
        }

        WriteDiagnostics(console, built.Diagnostics);
        return ExitCodes.Success;
    }

    /// <summary>The build's diagnostics as a table: what a user's build would print (warnings and information).</summary>
    public static void WriteDiagnostics(IAnsiConsole console, IReadOnlyList<BuildDiagnostic> diagnostics)
    {
        if (diagnostics.Count == 0)
        {
            console.MarkupLine("Diagnostics: none.");
            return;
        }
        var table = new Table().AddColumns("diagnostic", "severity", "message");
        foreach (BuildDiagnostic d in diagnostics)
            table.AddRow(d.Id, d.Severity == DiagnosticSeverity.Info ? "info" : d.Severity.ToString().ToLowerInvariant(), Markup.Escape(d.Message));
        console.Write(table);
    }

    private static string Encoding(ModelInfo info) => info.Encoding == Moments.CodeEncoding.SignMagnitude ? "sign-magnitude" : "two's complement";

    internal static string G(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    internal static string B(double budget) => double.IsPositiveInfinity(budget) ? "unreachable" : budget.ToString("0.###", CultureInfo.InvariantCulture);

    internal static string R(double ratio) => double.IsPositiveInfinity(ratio) ? "infinite" : ratio.ToString("F2", CultureInfo.InvariantCulture) + "x";
}
