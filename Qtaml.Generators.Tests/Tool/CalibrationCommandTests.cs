extern alias gen;
using gen::Qtaml.Generators.Calibration;
using Qtaml.Generators.Tests.Support;
using Qtaml.Tool.Cli;
using SkiaSharp;

namespace Qtaml.Generators.Tests.Tool;

/// <summary>
/// <c>qtaml calibration</c>: the inputs an app has, as CSV, raw float32 or a folder of images, become the .npy a
/// calibrated build reads, with the values a user would compute by hand; what cannot be converted is refused with
/// the reason and exit code 1.
/// </summary>
public sealed class CalibrationCommandTests : IDisposable
{
    private static readonly string Mlp = RepositoryPaths.Combine("sample-app", "Models", "digits-mlp.onnx");
    private static readonly string Cnn = RepositoryPaths.Combine("sample-app", "Models", "digits-cnn.onnx");
    private readonly string _scratch = Directory.CreateTempSubdirectory("qtaml-calibration-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private string Path_(string name) => Path.Combine(_scratch, name);

    private static NpyArray ReadNpy(string path) => NpyReader.Read(File.ReadAllBytes(path), maxRows: 10_000);

    /// <summary>A PNG of <paramref name="width"/> x <paramref name="height"/> whose pixel (x, y) is <paramref name="colour"/>(x, y).</summary>
    private string Png(string relative, int width, int height, Func<int, int, SKColor> colour)
    {
        string path = Path_(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, colour(x, y));
        using SKData png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, png.ToArray());
        return path;
    }

    [Fact]
    public void A_csv_file_becomes_one_input_per_line_with_a_header_skipped()
    {
        string csv = Path_("inputs.csv");
        File.WriteAllText(csv, "x0,x1,x2,x3\n1, 2, 3, 4\n\n0.5;-0.25;1e3;0\n");
        (int code, string output, _) = QtamlRunner.Run("calibration", csv, "--shape", "2,2", "--out", Path_("inputs.npy"));
        Assert.True(code == ExitCodes.Success, output);
        NpyArray array = ReadNpy(Path_("inputs.npy"));
        Assert.Equal(new[] { 2, 2, 2 }, array.Shape);
        Assert.Equal(new double[] { 1, 2, 3, 4 }, array.Row(0));
        Assert.Equal(new double[] { 0.5, -0.25, 1000, 0 }, array.Row(1));
        Assert.Contains("2 inputs, float32 of shape [2, 2, 2]", output);

        // A line of another length, a decimal comma, a value that is not finite: the line and the reason.
        File.WriteAllText(csv, "1,2,3,4\n1,2,3\n");
        (code, output, _) = QtamlRunner.Run("calibration", csv, "--out", Path_("bad.npy"));
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("Line 2", output);
        File.WriteAllText(csv, "1,2\nNaN,1\n");
        (code, output, _) = QtamlRunner.Run("calibration", csv, "--out", Path_("bad.npy"));
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("finite", output);
        Assert.False(File.Exists(Path_("bad.npy")));
    }

    [Fact]
    public void Raw_float32_is_split_into_inputs_of_the_models_input_length()
    {
        var values = new float[2 * 784];
        for (int i = 0; i < values.Length; i++) values[i] = i * 0.001f;
        string raw = Path_("inputs.f32");
        File.WriteAllBytes(raw, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        (int code, string output, _) = QtamlRunner.Run("calibration", raw, "--model", Mlp, "--out", Path_("raw.npy"));
        Assert.True(code == ExitCodes.Success, output);
        NpyArray array = ReadNpy(Path_("raw.npy"));
        Assert.Equal(2, array.Rows);
        Assert.Equal(784, array.RowLength);
        Assert.Equal((double)values[784 + 5], array.Row(1)[5]);

        // Not a whole number of inputs.
        File.WriteAllBytes(raw, new byte[784 * 4 + 4]);
        (code, output, _) = QtamlRunner.Run("calibration", raw, "--model", Mlp, "--out", Path_("raw2.npy"));
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("not a whole number of inputs of 784 float32 values", output);
    }

    [Fact]
    public void Images_are_resized_to_the_models_input_made_grayscale_and_scaled_to_0_1()
    {
        // A red image and a 56x56 one black on the left, white on the right; the CNN takes [1, 1, 28, 28].
        Png("digits/a/red.png", 40, 30, (_, _) => new SKColor(255, 0, 0));
        Png("digits/b/split.png", 56, 56, (x, _) => x < 28 ? SKColors.Black : SKColors.White);
        (int code, string output, _) = QtamlRunner.Run("calibration", Path_("digits"), "--model", Cnn, "--out", Path_("digits.npy"));
        Assert.True(code == ExitCodes.Success, output);
        Assert.Contains("grayscale (0.299 R + 0.587 G + 0.114 B), scaled to [0, 1]", output);
        NpyArray array = ReadNpy(Path_("digits.npy"));
        Assert.Equal(new[] { 2, 1, 28, 28 }, array.Shape);
        // Ordinal order of the paths: a/red.png first. One code step of an 8-bit pixel is the tolerance.
        Assert.All(array.Row(0), v => Assert.Equal(0.299, v, 1.0 / 255));
        double[] split = array.Row(1);
        for (int y = 0; y < 28; y++)
        {
            for (int x = 0; x < 13; x++) Assert.Equal(0, split[y * 28 + x], 1.0 / 255);
            for (int x = 15; x < 28; x++) Assert.Equal(1, split[y * 28 + x], 1.0 / 255);
        }
    }

    [Fact]
    public void Rgb_images_are_normalised_per_channel_channels_first_or_last()
    {
        Png("rgb/one.png", 16, 16, (_, _) => new SKColor(255, 128, 0));
        float[] mean = { 0.485f, 0.456f, 0.406f }, std = { 0.229f, 0.224f, 0.225f };
        double[] expected = { (1 - mean[0]) / std[0], (128 / 255.0 - mean[1]) / std[1], (0 - mean[2]) / std[2] };
        foreach ((string shape, bool channelsLast) in new[] { ("3,8,8", false), ("8,8,3", true) })
        {
            string npy = Path_($"rgb-{channelsLast}.npy");
            (int code, string output, _) = QtamlRunner.Run("calibration", Path_("rgb"), "--shape", shape, "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225", "--out", npy);
            Assert.True(code == ExitCodes.Success, output);
            double[] row = ReadNpy(npy).Row(0);
            Assert.Equal(192, row.Length);
            for (int p = 0; p < 64; p++)
                for (int c = 0; c < 3; c++)
                    Assert.Equal(expected[c], row[channelsLast ? p * 3 + c : c * 64 + p], 1.0 / 255 / std[c]);
        }
    }

    [Fact]
    public void A_converted_image_folder_calibrates_a_build()
    {
        // From images to a calibrated qtaml inspect, no Python anywhere: the MLP takes 784 values, a 28x28 image.
        for (int i = 0; i < 8; i++)
        {
            int bar = 6 + 2 * i;
            Png($"bars/{i}.png", 28, 28, (x, y) => Math.Abs(x - bar) <= 1 && y is > 4 and < 24 ? SKColors.White : SKColors.Black);
        }
        (int code, string output, _) = QtamlRunner.Run("calibration", Path_("bars"), "--shape", "28,28", "--out", Path_("bars.npy"));
        Assert.True(code == ExitCodes.Success, output);
        (code, output, _) = QtamlRunner.Run("inspect", Mlp, "--p-flip", "0.1", "--calibration", Path_("bars.npy"));
        Assert.True(code == ExitCodes.Success, output);
        Assert.Contains("(calibrated on 8 inputs)", output);
    }

    [Fact]
    public void What_cannot_be_converted_says_why()
    {
        Directory.CreateDirectory(Path_("empty"));
        (int code, string output, string error) = QtamlRunner.Run("calibration", Path_("empty"), "--shape", "1,28,28");
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("holds no images", output);

        Directory.CreateDirectory(Path_("broken"));
        File.WriteAllText(Path_("broken/x.png"), "not a png");
        (code, output, _) = QtamlRunner.Run("calibration", Path_("broken"), "--shape", "1,28,28");
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("is not an image Skia can decode", output);

        // Images need a shape; a shape of 4 channels is not an image; raw data needs a shape.
        (code, output, error) = QtamlRunner.Run("calibration", Path_("broken"));
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("--model model.onnx or --shape", output + error);
        (code, output, _) = QtamlRunner.Run("calibration", Path_("broken"), "--shape", "4,8,8");
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("1 (grayscale) or 3 (RGB) channels", output);
        (code, output, error) = QtamlRunner.Run("calibration", Path_("broken"), "--model", Mlp, "--shape", "1,28,28");
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("not both", output + error);
    }
}
