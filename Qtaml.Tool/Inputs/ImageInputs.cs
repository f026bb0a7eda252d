using Qtaml.Tool.Cli;
using SkiaSharp;

namespace Qtaml.Tool.Inputs;

/// <summary>
/// Model inputs from a folder of images (PNG, JPEG, BMP, GIF, WebP, searched in subfolders too, in ordinal order of
/// their paths), each decoded with Skia, resized and normalised as an <see cref="ImageLayout"/> says.
/// </summary>
internal static class ImageInputs
{
    private static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    /// <summary>An image larger than this many pixels is refused before it is decoded (its header alone says its size).</summary>
    private const long MaxPixels = 64L * 1024 * 1024;

    /// <summary>
    /// The images of <paramref name="folder"/>; more than <paramref name="maxImages"/> are thinned to that many spread
    /// evenly over the sorted list, so a folder sorted by class still gives every class its share.
    /// </summary>
    public static (string[] Chosen, int Found) Files(string folder, int maxImages)
    {
        string[] all = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(path => Extensions.Contains(Path.GetExtension(path)))
            .Order(StringComparer.Ordinal)
            .ToArray();
        if (all.Length == 0) throw new ToolException($"'{folder}' holds no images (.png, .jpg, .jpeg, .bmp, .gif or .webp, in it or its subfolders).");
        if (all.Length <= maxImages) return (all, all.Length);
        var chosen = new string[maxImages];
        for (int i = 0; i < maxImages; i++) chosen[i] = all[(int)((long)i * all.Length / maxImages)];
        return (chosen, all.Length);
    }

    /// <summary>Every file as one input, one after another.</summary>
    public static float[] Read(IReadOnlyList<string> files, ImageLayout layout)
    {
        var values = new float[(long)files.Count * layout.Length];
        for (int i = 0; i < files.Count; i++) Convert(ToolFiles.Read(files[i], "image"), files[i], layout, values.AsSpan(i * layout.Length, layout.Length));
        return values;
    }

    /// <summary>One encoded image into <paramref name="destination"/>, <see cref="ImageLayout.Length"/> values.</summary>
    public static void Convert(byte[] encoded, string source, ImageLayout layout, Span<float> destination)
    {
        using SKBitmap resized = Decode(encoded, source, layout);
        ReadOnlySpan<byte> rgba = resized.GetPixelSpan();
        int pixels = layout.Height * layout.Width;
        for (int p = 0; p < pixels; p++)
        {
            float r = rgba[4 * p], g = rgba[4 * p + 1], b = rgba[4 * p + 2];
            for (int c = 0; c < layout.Channels; c++)
            {
                float pixel = layout.Channels == 1 ? 0.299f * r + 0.587f * g + 0.114f * b : c == 0 ? r : c == 1 ? g : b;
                float value = (pixel / 255f - layout.Mean[c]) / layout.Std[c];
                destination[layout.ChannelsLast ? p * layout.Channels + c : c * pixels + p] = value;
            }
        }
    }

    /// <summary>The image decoded to straight-alpha RGBA and resized to the layout's size (after a centre crop if asked).</summary>
    private static SKBitmap Decode(byte[] encoded, string source, ImageLayout layout)
    {
        using var data = SKData.CreateCopy(encoded);
        using SKCodec? codec = SKCodec.Create(data);
        if (codec is null) throw new ToolException($"'{source}' is not an image Skia can decode (PNG, JPEG, BMP, GIF, WebP).");
        SKImageInfo header = codec.Info;
        if (header.Width < 1 || header.Height < 1 || (long)header.Width * header.Height > MaxPixels)
            throw new ToolException($"'{source}' claims {header.Width}x{header.Height} pixels; qtaml decodes images up to {MaxPixels / (1024 * 1024)} megapixels.");
        var info = new SKImageInfo(header.Width, header.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var full = new SKBitmap(info);
        SKCodecResult result = codec.GetPixels(info, full.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
            throw new ToolException($"'{source}' cannot be decoded: {result}.");

        SKBitmap cropped = full;
        if (layout.CenterCrop)
        {
            // The largest centred rectangle with the target's aspect ratio.
            double scale = Math.Min((double)header.Width / layout.Width, (double)header.Height / layout.Height);
            int w = Math.Max(1, (int)Math.Round(layout.Width * scale)), h = Math.Max(1, (int)Math.Round(layout.Height * scale));
            var rect = SKRectI.Create((header.Width - w) / 2, (header.Height - h) / 2, w, h);
            cropped = new SKBitmap();
            if (!full.ExtractSubset(cropped, rect)) throw new ToolException($"'{source}' cannot be cropped to {w}x{h}.");
        }
        try
        {
            var target = new SKImageInfo(layout.Width, layout.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
            return cropped.Resize(target, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
                ?? throw new ToolException($"'{source}' cannot be resized to {layout.Width}x{layout.Height}.");
        }
        finally
        {
            if (!ReferenceEquals(cropped, full)) cropped.Dispose();
        }
    }
}
