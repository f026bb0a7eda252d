using System.Globalization;
using Qtaml.Generators.Tests.Support;
using Qtaml.Tool.Cli;

namespace Qtaml.Generators.Tests.Tool;

/// <summary>
/// The qtaml tool driven through its command line, in process: its commands on a sample model, and its answers to
/// wrong command lines and unusable files (a message that says what to do, and the documented exit code).
/// </summary>
public sealed class QtamlCommandTests : IDisposable
{
    private static readonly string Mlp = RepositoryPaths.Combine("sample-app", "Models", "digits-mlp.onnx");
    private static readonly string Calibration = RepositoryPaths.Combine("sample-app", "Models", "calibration.npy");
    private readonly string _scratch = Directory.CreateTempSubdirectory("qtaml-tool-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static (int ExitCode, string Output, string Error) Qtaml(params string[] args) => QtamlRunner.Run(args);

    private string Scratch(string name, byte[] bytes)
    {
        string path = Path.Combine(_scratch, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Help_lists_the_commands_and_the_exit_codes()
    {
        (int code, string output, _) = Qtaml("--help");
        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("inspect", output);
        Assert.Contains("campaign", output);
        Assert.Contains("Exit codes: 0 done; 1 a file could not be used or the model did not compile; 2 a wrong command line.", output);
        (code, output, _) = Qtaml("campaign", "--help");
        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("--inputs", output);
        Assert.Contains("--labels", output);
        // inspect states the node it assumes when neither --node nor --p-flip is given.
        (_, output, _) = Qtaml("inspect", "--help");
        Assert.Contains("[default: 2nm, unless --p-flip is given]", output);
    }

    [Fact]
    public void Inspect_reports_the_layers_the_budgets_rho_and_the_forecast_from_the_generator()
    {
        (int code, string output, _) = Qtaml("inspect", Mlp, "--p-flip", "0.1", "--calibration", Calibration);
        Assert.True(code == ExitCodes.Success, output);
        foreach (string layer in new[] { "dense0", "dense2", "dense4" }) Assert.Contains(layer, output);
        Assert.Contains("to reach the quantization noise floor", output);
        Assert.Contains("to keep 95% of decisions (calibrated on 256 inputs)", output);
        Assert.Contains("rho*", output);
        // A budget below what TAC needs is the build's QTAML010, shown as a user's build shows it.
        (code, output, _) = Qtaml("inspect", Mlp, "--node", "2nm", "--calibration", Calibration, "--budget", "0");
        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("QTAML010", output);
    }

    [Fact]
    public void A_campaign_finds_each_allocators_budget_and_writes_the_table_csv_and_chart()
    {
        string folder = Path.Combine(_scratch, "out");
        (int code, string output, _) = Qtaml("campaign", Mlp, "--p-flip", "0.1", "--inputs", Calibration, "--max-inputs", "60", "--trials", "3", "--out", folder, "--at", "0.25");
        Assert.True(code == ExitCodes.Success, output);
        Assert.Contains("target: 95.0% of decisions as the float model decides them", output);
        foreach (string allocator in new[] { "TAC", "Uniform-MSP", "magnitude-based" }) Assert.Contains(allocator, output);
        Assert.Contains("Uniform-MSP / TAC, measured:", output);
        string[] csv = File.ReadAllLines(Path.Combine(folder, "campaign.csv"));
        Assert.Equal("allocator,budget,bits_per_weight_spent,encoding,protected_planes,mean,lower95,upper95,trials", csv[0]);
        // Every row is a measured plan within the bit width, spending no more than its budget, 4 trials each.
        foreach (string[] row in csv.Skip(1).Select(line => line.Split(',')))
        {
            double budget = double.Parse(row[1], CultureInfo.InvariantCulture), spent = double.Parse(row[2], CultureInfo.InvariantCulture);
            Assert.InRange(budget, 0, 8);
            Assert.True(spent <= budget + 1e-12, $"a plan spends {spent} of a budget of {budget}");
            double mean = double.Parse(row[5], CultureInfo.InvariantCulture), lower = double.Parse(row[6], CultureInfo.InvariantCulture), upper = double.Parse(row[7], CultureInfo.InvariantCulture);
            // Three trials: the interval stays in [0, 1] around the mean and is at least the exact one over all 180 decisions.
            Assert.True(0 <= lower && lower <= mean && mean <= upper && upper <= 1, $"interval {lower} to {upper} around {mean}");
            (double exactLow, double exactHigh) = global::Qtaml.Faults.BinomialInterval.ClopperPearson95((long)Math.Round(mean * 180), 180);
            Assert.True(lower <= exactLow + 1e-9 && upper >= exactHigh - 1e-9, $"interval {lower} to {upper} narrower than the exact {exactLow} to {exactHigh}");
            Assert.Equal("3", row[8]);
        }
        Assert.Contains(csv, line => line.StartsWith("TAC,0.25,", StringComparison.Ordinal));
        string svg = File.ReadAllText(Path.Combine(folder, "campaign.svg"));
        Assert.StartsWith("<svg", svg);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Count(svg, "<polyline"));
    }

    [Fact]
    public void A_campaign_on_a_recogniser_counts_every_rows_decision_and_takes_a_label_per_row()
    {
        // A final softmax over 12 rows of 6 classes: 12 decisions per input, as the build's forecast counts them.
        const int inputs = 8, steps = Tests.Calibration.SequenceDecisionTests.Steps, features = Tests.Calibration.SequenceDecisionTests.Features;
        string model = Scratch("rec.onnx", Tests.Calibration.SequenceDecisionTests.Recogniser());
        float[] values = Enumerable.Range(0, inputs).SelectMany(i => Generator.TestModels.Input(steps * features, 700 + i).Select(v => 2 * v - 1)).ToArray();
        string rows = Scratch("rows.npy", global::Qtaml.Calibration.NpyFile.ToBytes(values, inputs, steps, features));

        // inspect says how the model decides.
        (int code, string output, _) = Qtaml("inspect", model, "--node", "2nm");
        Assert.True(code == ExitCodes.Success, output);
        Assert.Contains("12 per input, one per row of the final softmax, each among 6 classes", output);

        // One label per input is refused: the model makes one decision per row.
        string perInput = Scratch("labels1.npy", global::Qtaml.Calibration.NpyFile.ToBytes(new long[inputs], inputs));
        (code, output, _) = Qtaml("campaign", model, "--node", "2nm", "--inputs", rows, "--labels", perInput);
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("the model makes 12 per input", output);
        Assert.Contains("[N, 12]", output);

        string folder = Path.Combine(_scratch, "rec-out");
        (code, output, _) = Qtaml("campaign", model, "--node", "2nm", "--inputs", rows, "--trials", "2", "--out", folder, "--at", "0.5");
        Assert.True(code == ExitCodes.Success, output);
        Assert.Contains("8 inputs of 12 decisions each", output);
        // Every measured share is a whole number of the 96 row decisions, its interval at least the exact one over 2 x 96.
        foreach (string[] row in File.ReadAllLines(Path.Combine(folder, "campaign.csv")).Skip(1).Select(line => line.Split(',')))
        {
            double mean = double.Parse(row[5], CultureInfo.InvariantCulture), lower = double.Parse(row[6], CultureInfo.InvariantCulture);
            Assert.Equal(0, mean * 192 - Math.Round(mean * 192), 6);
            (double exactLow, _) = global::Qtaml.Faults.BinomialInterval.ClopperPearson95((long)Math.Round(mean * 192), 192);
            Assert.True(lower <= exactLow + 1e-9, $"interval from {lower}, narrower than the exact one over 192 decisions (from {exactLow})");
        }
    }

    [Theory]
    [InlineData(new[] { "inspect" }, "Required argument missing")]
    [InlineData(new[] { "inspect", "m.onnx", "--node", "2nm", "--p-flip", "0.1" }, "not both")]
    [InlineData(new[] { "inspect", "m.onnx", "--node", "1nm" }, "Known nodes: ")]
    [InlineData(new[] { "inspect", "m.onnx", "--p-flip", "0.7" }, "--p-flip must be in [0, 0.5)")]
    [InlineData(new[] { "inspect", "m.onnx", "--bits", "40" }, "--bits must be 2 to 16")]
    [InlineData(new[] { "campaign", "m.onnx", "--inputs", "x.npy" }, "Say which faults to inject")]
    [InlineData(new[] { "campaign", "m.onnx", "--p-flip", "0.1" }, "--inputs")]
    [InlineData(new[] { "frobnicate" }, "frobnicate")]
    public void A_wrong_command_line_says_what_is_wrong_and_exits_with_2(string[] args, string message)
    {
        // Files named on these command lines need not exist: the command line is refused first.
        (int code, string output, string error) = Qtaml(args.Select(a => a == "m.onnx" ? Mlp : a).ToArray());
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains(message, output + error);
    }

    [Fact]
    public void Unusable_files_are_refused_with_the_reason_and_exit_code_1()
    {
        (int code, string output, _) = Qtaml("inspect", Path.Combine(_scratch, "missing.onnx"), "--p-flip", "0.1");
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("does not exist", output);

        // A file of another kind given as the model (the inputs, say) is a file that cannot be used, not a wrong command line.
        (code, output, _) = Qtaml("inspect", Calibration, "--p-flip", "0.1");
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("is not an .onnx or .safetensors file", output);

        // Not a model at all: the generator's diagnostic, with its ID.
        string garbage = Scratch("garbage.onnx", "this is not protobuf"u8.ToArray());
        (code, output, _) = Qtaml("inspect", garbage, "--p-flip", "0.1");
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("did not compile", output);
        Assert.Matches("QTAML0[0-9][0-9]", output);

        // Inputs that are not .npy, inputs of the wrong length, labels outside the model's classes.
        string text = Scratch("inputs.npy", "1,2,3"u8.ToArray());
        (code, output, _) = Qtaml("campaign", Mlp, "--p-flip", "0.1", "--inputs", text);
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("cannot be read", output);
        string wrongLength = Scratch("short.npy", global::Qtaml.Calibration.NpyFile.ToBytes(new float[30], 3, 10));
        (code, output, _) = Qtaml("campaign", Mlp, "--p-flip", "0.1", "--inputs", wrongLength);
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("holds rows of 10 values", output);
        string labels = Scratch("labels.npy", global::Qtaml.Calibration.NpyFile.ToBytes(new long[] { 3, 12, 1 }, 3));
        (code, output, _) = Qtaml("campaign", Mlp, "--p-flip", "0.1", "--inputs", Calibration, "--max-inputs", "3", "--labels", labels);
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("Label 1 of", output);
        Assert.Contains("from 0 to 9", output);
    }
}
