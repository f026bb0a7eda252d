extern alias gen;
using System.CommandLine;
using System.Globalization;
using Qtaml.Calibration;
using Qtaml.Tool.Inputs;
using Spectre.Console;

namespace Qtaml.Tool.Cli;

/// <summary>
/// <c>qtaml calibration</c>: the inputs an app already has (a CSV file, raw float32, a folder of images) as the
/// float32 .npy a build's <c>Calibration</c> and qtaml's <c>--calibration</c>/<c>--inputs</c> read, shaped
/// [N, ...input]. No Python: the .npy is written by the runtime's <see cref="NpyFile"/>.
/// </summary>
internal static class CalibrationCommand
{
    public static Command Create(IAnsiConsole console)
    {
        var source = new Argument<string>("source") { Description = "A .csv file (one input per line), a raw little-endian float32 file (.bin, .raw, .f32), or a folder of images." };
        var output = new Option<string>("--out") { Description = "The .npy file to write.", DefaultValueFactory = _ => "inputs.npy" };
        var model = new Option<string?>("--model") { Description = "The .onnx model the inputs are for: its first input's shape is the shape of each input." };
        var shape = new Option<string?>("--shape") { Description = "The shape of one input, such as 1,28,28 (instead of --model; needed for raw float32 and images without a model)." };
        var max = new Option<int>("--max") { Description = "At most this many inputs (a build uses up to 256); a larger image folder is sampled evenly.", DefaultValueFactory = _ => 256 };
        var layout = new Option<string?>("--layout") { Description = "Images: chw (channels first) or hwc (channels last), when the shape could be either." };
        var mean = new Option<string?>("--mean") { Description = "Images: per-channel mean subtracted after scaling pixels to [0, 1], such as 0.485,0.456,0.406." };
        var std = new Option<string?>("--std") { Description = "Images: per-channel standard deviation divided by after the mean, such as 0.229,0.224,0.225." };
        var crop = new Option<bool>("--center-crop") { Description = "Images: keep the aspect ratio, scale the shorter side to fit and crop the centre (default: stretch to the input's size)." };
        var command = new Command("calibration", "Convert inputs an app has (CSV, raw float32, a folder of images) to the .npy a calibrated build reads, without Python.");
        command.Arguments.Add(source);
        foreach (Option option in new Option[] { output, model, shape, max, layout, mean, std, crop }) command.Options.Add(option);
        command.Validators.Add(result =>
        {
            if (result.GetValue(model) is not null && result.GetValue(shape) is not null) result.AddError("Give --model or --shape, not both: the model's input has its own shape.");
        });
        command.SetAction(parse => QtamlCli.Guard(console, () =>
        {
            int limit = parse.GetValue(max);
            if (limit < 1) throw ToolException.Usage($"--max must be at least 1; got {limit}.");
            int[]? inputShape = parse.GetValue(shape) is string text ? ParseShape(text) : parse.GetValue(model) is string m ? ModelInputShape(m) : null;
            string from = parse.GetValue(source)!, to = parse.GetValue(output)!;
            (float[] values, int rows, int[] rowShape, string what) = Directory.Exists(from)
                ? FromImages(from, inputShape, limit, ImageOptions(parse, layout, mean, std, crop))
                : Path.GetExtension(from).ToLowerInvariant() is ".csv" or ".txt"
                    ? FromCsv(from, inputShape, limit)
                    : FromRaw(from, inputShape, limit);
            Write(to, values, rows, rowShape);
            string dims = string.Join(", ", rowShape);
            console.MarkupLine($"wrote [bold]{Markup.Escape(to)}[/]: {rows} inputs, float32 of shape {Markup.Escape($"[{rows}, {dims}]")}");
            foreach (string line in ("from " + what).Split('\n')) console.MarkupLine("  " + Markup.Escape(line));
            console.MarkupLine($"Use it as [bold]Calibration = \"{Markup.Escape(to)}\"[/] on the attribute, or as qtaml's --calibration or --inputs.");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static (string? Layout, float[]? Mean, float[]? Std, bool Crop) ImageOptions(ParseResult parse, Option<string?> layout, Option<string?> mean, Option<string?> std, Option<bool> crop) =>
        (parse.GetValue(layout), ParseFloats(parse.GetValue(mean), "--mean"), ParseFloats(parse.GetValue(std), "--std"), parse.GetValue(crop));

    private static (float[], int, int[], string) FromImages(string folder, int[]? shape, int limit, (string? Layout, float[]? Mean, float[]? Std, bool Crop) options)
    {
        if (shape is null) throw ToolException.Usage("Images need the model's input shape: give --model model.onnx or --shape 3,224,224.");
        ImageLayout layout = ImageLayout.FromShape(shape, options.Layout, options.Mean, options.Std, options.Crop);
        (string[] files, int found) = ImageInputs.Files(folder, limit);
        float[] values = ImageInputs.Read(files, layout);
        string sampled = found > files.Length ? $"{files.Length} of the {found} images (evenly spread over their sorted paths)" : $"{found} images";
        return (values, files.Length, shape.Length == 4 && shape[0] == 1 ? shape[1..] : shape, $"{sampled} in '{folder}';\neach image {layout.Describe()}.");
    }

    private static (float[], int, int[], string) FromCsv(string path, int[]? shape, int limit)
    {
        int? rowLength = shape is null ? null : checked((int)shape.Aggregate(1L, (a, b) => a * b));
        using var reader = new StringReader(System.Text.Encoding.UTF8.GetString(ToolFiles.Read(path, "CSV")));
        (float[] values, int rows, int length) = TabularInputs.ReadCsv(reader, path, rowLength, limit);
        return (values, rows, shape ?? new[] { length }, $"'{path}' (one input per line).");
    }

    private static (float[], int, int[], string) FromRaw(string path, int[]? shape, int limit)
    {
        if (shape is null) throw ToolException.Usage("Raw float32 has no shape of its own: give --model model.onnx or --shape such as 1,28,28.");
        int rowLength = checked((int)shape.Aggregate(1L, (a, b) => a * b));
        (float[] values, int rows) = TabularInputs.ReadRaw(ToolFiles.Read(path, "raw float32"), path, rowLength, limit);
        return (values, rows, shape, $"'{path}' (raw little-endian float32).");
    }

    private static void Write(string path, float[] values, int rows, int[] rowShape)
    {
        try
        {
            string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder is not null) Directory.CreateDirectory(folder);
            NpyFile.Write(path, values, new[] { rows }.Concat(rowShape).ToArray());
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new ToolException($"'{path}' cannot be written: {error.Message}");
        }
    }

    /// <summary>The first graph input's shape as the generator reads it (pins and all), so the .npy matches what a build expects.</summary>
    private static int[] ModelInputShape(string path)
    {
        if (!Path.GetExtension(path).Equals(".onnx", StringComparison.OrdinalIgnoreCase))
            throw new ToolException($"'{path}' is not an .onnx model; for a .safetensors model give --shape.");
        try
        {
            int[] shape = gen::Qtaml.Generators.Onnx.OnnxReader.Read(path, ToolFiles.Read(path, "model")).InputShape;
            return shape;
        }
        catch (gen::Qtaml.Generators.Network.ModelReadException error)
        {
            throw new ToolException($"'{path}' cannot be read as a model ({error.Message}); give --shape instead.");
        }
    }

    private static int[] ParseShape(string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var shape = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]) || shape[i] < 1)
                throw ToolException.Usage($"--shape '{text}' is not a list of sizes such as 1,28,28.");
        if (shape.Aggregate(1L, (a, b) => a * b) > 64L * 1024 * 1024) throw ToolException.Usage($"--shape '{text}' is more than 64M values per input.");
        return shape;
    }

    private static float[]? ParseFloats(string? text, string option)
    {
        if (text is null) return null;
        return text.Split(',', StringSplitOptions.TrimEntries).Select(part =>
            float.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) ? value
                : throw ToolException.Usage($"{option} takes numbers such as 0.485,0.456,0.406; '{part}' is not one.")).ToArray();
    }
}
