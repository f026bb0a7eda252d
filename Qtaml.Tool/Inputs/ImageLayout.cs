using System.Globalization;
using Qtaml.Tool.Cli;

namespace Qtaml.Tool.Inputs;

/// <summary>
/// How one image becomes one model input: the size it is resized to, its channels (1 = grayscale, 3 = RGB), their
/// order in memory, and the normalisation <c>(pixel / 255 - mean[c]) / std[c]</c>. Read from the input's shape:
/// [H, W], [C, H, W] or [1, C, H, W] (channels first, ONNX's usual layout) or [H, W, C] (channels last).
/// </summary>
internal sealed record ImageLayout(int Height, int Width, int Channels, bool ChannelsLast, float[] Mean, float[] Std, bool CenterCrop)
{
    public int Length => Height * Width * Channels;

    /// <summary>The layout an input shape implies; <paramref name="layout"/> ("chw" or "hwc") settles a 3-D shape both could read.</summary>
    public static ImageLayout FromShape(int[] shape, string? layout, float[]? mean, float[]? std, bool centerCrop)
    {
        int[] dims = shape.Length == 4 && shape[0] == 1 ? shape[1..] : shape;
        bool? last = layout?.ToLowerInvariant() switch
        {
            null => null,
            "chw" => false,
            "hwc" => true,
            _ => throw ToolException.Usage($"--layout '{layout}' is not chw (channels first) or hwc (channels last)."),
        };
        (int h, int w, int c, bool channelsLast) = dims.Length switch
        {
            2 => (dims[0], dims[1], 1, false),
            3 when last == true || (last is null && !IsChannels(dims[0]) && IsChannels(dims[2])) => (dims[0], dims[1], dims[2], true),
            3 => (dims[1], dims[2], dims[0], false),
            _ => throw new ToolException($"An image input has shape [H, W], [C, H, W], [1, C, H, W] or [H, W, C]; the model's is [{string.Join(", ", shape)}]. Convert such inputs to CSV or raw float32 instead."),
        };
        if (!IsChannels(c)) throw new ToolException($"An image has 1 (grayscale) or 3 (RGB) channels; the input shape [{string.Join(", ", shape)}] asks for {c}{(layout is null ? " (give --layout hwc if the channels come last)" : "")}.");
        if (h < 1 || w < 1 || (long)h * w > 16384L * 16384) throw new ToolException($"An image input of {h}x{w} pixels is not one qtaml makes.");
        mean ??= Enumerable.Repeat(0f, c).ToArray();
        std ??= Enumerable.Repeat(1f, c).ToArray();
        if (mean.Length != c || std.Length != c)
            throw ToolException.Usage($"--mean and --std give one value per channel: {c} for this input (got {mean.Length} and {std.Length}).");
        if (std.Any(s => !(s > 0) || !float.IsFinite(s)) || mean.Any(m => !float.IsFinite(m)))
            throw ToolException.Usage("--std values must be positive and --mean values finite.");
        return new ImageLayout(h, w, c, channelsLast, mean, std, centerCrop);
    }

    /// <summary>What is done to each image, as the command states it.</summary>
    public string Describe()
    {
        string colour = Channels == 1 ? "grayscale (0.299 R + 0.587 G + 0.114 B)" : "RGB";
        string fit = CenterCrop ? "scaled so its shorter side fits, then centre-cropped" : "stretched to fill, the aspect ratio not kept";
        bool plain = Mean.All(m => m == 0) && Std.All(s => s == 1);
        string scale = plain ? "scaled to [0, 1] (pixel / 255)" : $"normalised as (pixel / 255 - mean) / std with mean {List(Mean)}, std {List(Std)}";
        return $"resized to {Width}x{Height} (bilinear, {fit}), {colour}, {scale}, {(ChannelsLast ? "channels last" : "channels first")}";
    }

    private static bool IsChannels(int size) => size is 1 or 3;

    private static string List(float[] values) => string.Join(", ", values.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)));
}
