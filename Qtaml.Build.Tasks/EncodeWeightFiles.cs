using System;
using System.Globalization;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Qtaml.Build;

/// <summary>
/// Writes each weight file as text to the path in its <c>QtamlEncodedFile</c> metadata: a header line with its
/// <c>QtamlProjectPath</c> (the path an attribute names it by), then its bytes in base64. The targets compute
/// both paths and run this only for weight files newer than their encoded form.
/// </summary>
/// <remarks>
/// A file larger than <see cref="MaxFileBytes"/> (default <see cref="DefaultMaxFileBytes"/>) is not read: its encoded form holds, after the header line,
/// <c>too-large &lt;bytes&gt; &lt;limit&gt;</c>, and the generator reports that on the attribute that names it (a model that
/// size is far past the weights Qtaml bakes, and its base64 would pass .NET's largest string). The encoding streams
/// in chunks, so the task holds one chunk of the file at a time, not the file and its base64 text.
/// </remarks>
public sealed class EncodeWeightFiles : Task
{
    /// <summary>The first characters of every encoded file; the generator checks them.</summary>
    public const string Header = "qtaml-weights-base64 v1 ";

    /// <summary>
    /// The largest weight file encoded: 640 MiB, room for the 64,000,000 weights Qtaml bakes into one class as float32
    /// (256 MB) or float64 (512 MB) with their graph; its base64 form (853 MiB of text) stays within .NET's largest string.
    /// </summary>
    public const long DefaultMaxFileBytes = 640L * 1024 * 1024;

    /// <summary>The largest weight file this run encodes; the package's targets leave it at <see cref="DefaultMaxFileBytes"/>.</summary>
    public long MaxFileBytes { get; set; } = DefaultMaxFileBytes;

    /// <summary>The line that stands for a file too large to encode, before its size and the limit.</summary>
    public const string TooLargeMarker = "too-large ";

    /// <summary>Bytes read per chunk: a multiple of 3, so each chunk's base64 has no padding and the chunks concatenate.</summary>
    private const int ChunkBytes = 3 * 256 * 1024;

    /// <summary>The weight files to encode, with QtamlProjectPath and QtamlEncodedFile metadata.</summary>
    [Required]
    public ITaskItem[] WeightFiles { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        var chunk = new byte[ChunkBytes];
        foreach (ITaskItem item in WeightFiles)
        {
            string source = item.GetMetadata("FullPath");
            string target = item.GetMetadata("QtamlEncodedFile");
            // Written beside the target and moved over it when whole: a write that fails half way must not leave an
            // encoded file newer than its source, which an incremental build would then take as up to date.
            string partial = target + ".partial";
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
                using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.SequentialScan))
                using (var output = new StreamWriter(partial, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)))
                {
                    output.Write(Header + item.GetMetadata("QtamlProjectPath").Replace('\\', '/') + "\n");
                    if (input.Length > MaxFileBytes)
                        output.Write(TooLargeMarker + input.Length.ToString(CultureInfo.InvariantCulture) + " " + MaxFileBytes.ToString(CultureInfo.InvariantCulture) + "\n");
                    else
                    {
                        int filled;
                        while ((filled = ReadChunk(input, chunk)) > 0) output.Write(Convert.ToBase64String(chunk, 0, filled));
                        output.Write("\n");
                    }
                }
                File.Delete(target);
                File.Move(partial, target);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.LogError(null, "QTAML000", null, source, 0, 0, 0, 0, "Qtaml cannot encode the weight file '{0}' into '{1}': {2}", source, target, e.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }

    /// <summary>Fills <paramref name="chunk"/> from the stream (short only at its end); the bytes read.</summary>
    private static int ReadChunk(Stream input, byte[] chunk)
    {
        int filled = 0, read;
        while (filled < chunk.Length && (read = input.Read(chunk, filled, chunk.Length - filled)) > 0) filled += read;
        return filled;
    }
}
