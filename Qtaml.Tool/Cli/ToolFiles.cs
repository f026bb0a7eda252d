namespace Qtaml.Tool.Cli;

/// <summary>Reading the files a command names, with errors that say which file and why.</summary>
internal static class ToolFiles
{
    /// <summary>Files larger than this are refused before they are read (a weight file of 2 GB is not an edge model).</summary>
    public const long MaxBytes = 2L * 1024 * 1024 * 1024 - 1;

    public static byte[] Read(string path, string what)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
            throw new ToolException(Directory.Exists(path) ? $"'{path}' is a directory; give the {what} file." : $"The {what} file '{path}' does not exist.");
        if (file.Length > MaxBytes) throw new ToolException($"The {what} file '{path}' is {file.Length} bytes; qtaml reads files under 2 GB.");
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new ToolException($"The {what} file '{path}' cannot be read: {error.Message}");
        }
    }
}
