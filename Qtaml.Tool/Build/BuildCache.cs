extern alias gen;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.CodeAnalysis;
using QtamlGenerator = gen::Qtaml.Generators.TunnelingCompensatedGenerator;

namespace Qtaml.Tool.Build;

/// <summary>
/// Compiled models kept between runs of the tool: a second <c>qtaml inspect</c> or <c>campaign</c> on the same model
/// loads the assembly the first compiled instead of running the generator and Roslyn again. An entry is keyed by
/// everything the assembly depends on: the generated source's attributes (options, encodings), the model's and the
/// calibration inputs' bytes, and the identity (module version id) of the generator and the runtime that built it, so a
/// changed file or a new Qtaml never reads a stale entry. The folder is <c>$QTAML_CACHE</c>, else
/// <c>qtaml/build-cache</c> in the user's local application data; at most <see cref="MaxBytes"/>, the least recently
/// used entries removed first. Nothing but the tool's own output is read back, and an entry that does not parse is
/// compiled again.
/// </summary>
internal sealed class BuildCache
{
    /// <summary>The most the cache folder holds before its least recently used entries are removed: 1 GiB.</summary>
    public const long MaxBytes = 1L << 30;

    private const string AssemblySuffix = ".dll", DiagnosticsSuffix = ".diagnostics.json";

    public BuildCache(string folder) => Folder = folder;

    /// <summary>The cache the tool uses: <c>$QTAML_CACHE</c>, else the user's local application data.</summary>
    public static BuildCache Default { get; } = new(Environment.GetEnvironmentVariable("QTAML_CACHE") is { Length: > 0 } folder
        ? folder
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "qtaml", "build-cache"));

    public string Folder { get; }

    /// <summary>Builds served from the folder, and builds compiled and stored, by this instance.</summary>
    public int Hits { get; private set; }
    public int Misses { get; private set; }

    /// <summary>The entry's name: a SHA-256 over the source, the files and the generator's and runtime's identity.</summary>
    public static string Key(string source, byte[] model, byte[]? calibration)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Part(byte[] bytes)
        {
            hash.AppendData(BitConverter.GetBytes((long)bytes.Length));
            hash.AppendData(bytes);
        }
        Part(typeof(QtamlGenerator).Assembly.ManifestModule.ModuleVersionId.ToByteArray());
        Part(typeof(Qtaml.ICompiledModel).Assembly.ManifestModule.ModuleVersionId.ToByteArray());
        Part(Encoding.UTF8.GetBytes(source));
        Part(model);
        Part(calibration ?? Array.Empty<byte>());
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
    }

    /// <summary>The stored assembly and the build's diagnostics, or null when there is none (or it cannot be read).</summary>
    public (byte[] Assembly, IReadOnlyList<BuildDiagnostic> Diagnostics)? TryLoad(string key)
    {
        string assembly = Path.Combine(Folder, key + AssemblySuffix), diagnostics = Path.Combine(Folder, key + DiagnosticsSuffix);
        try
        {
            if (!File.Exists(assembly) || !File.Exists(diagnostics)) return null;
            var stored = JsonSerializer.Deserialize<StoredDiagnostic[]>(File.ReadAllText(diagnostics));
            if (stored is null) return null;
            byte[] bytes = File.ReadAllBytes(assembly);
            File.SetLastWriteTimeUtc(assembly, DateTime.UtcNow);   // recently used: trimmed last
            Hits++;
            return (bytes, stored.Select(d => new BuildDiagnostic(d.Id, d.Severity, d.Message)).ToList());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Stores a build (best effort: a cache that cannot be written only costs the next run its compile), then trims the folder.</summary>
    public void Store(string key, byte[] assembly, IReadOnlyList<BuildDiagnostic> diagnostics)
    {
        Misses++;
        try
        {
            Directory.CreateDirectory(Folder);
            // Diagnostics first, the assembly last: an entry is complete once its assembly is there.
            string json = JsonSerializer.Serialize(diagnostics.Select(d => new StoredDiagnostic(d.Id, d.Severity, d.Message)).ToArray());
            WriteAtomically(Path.Combine(Folder, key + DiagnosticsSuffix), Encoding.UTF8.GetBytes(json));
            WriteAtomically(Path.Combine(Folder, key + AssemblySuffix), assembly);
            Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static void WriteAtomically(string path, byte[] bytes)
    {
        string temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Removes the least recently used entries while the folder holds more than <see cref="MaxBytes"/>.</summary>
    private void Trim()
    {
        FileInfo[] files = new DirectoryInfo(Folder).GetFiles();
        long total = files.Sum(f => f.Length);
        var entries = files.Where(f => f.Name.EndsWith(AssemblySuffix, StringComparison.Ordinal)).OrderBy(f => f.LastWriteTimeUtc).ToList();
        foreach (FileInfo oldest in entries)
        {
            if (total <= MaxBytes) break;
            string key = oldest.Name[..^AssemblySuffix.Length];
            total -= oldest.Length;
            oldest.Delete();
            var diagnostics = new FileInfo(Path.Combine(Folder, key + DiagnosticsSuffix));
            if (diagnostics.Exists)
            {
                total -= diagnostics.Length;
                diagnostics.Delete();
            }
        }
    }

    private sealed record StoredDiagnostic(string Id, DiagnosticSeverity Severity, string Message);
}
