using System;
using System.Collections.Immutable;
using System.Linq;
using System.Runtime.InteropServices;
using Qtaml.Generators.Model;

namespace Qtaml.Generators.Parsing;

/// <summary>
/// Finds the weight file an attribute names among the project's encoded weight files, by exact path under the
/// platform's case rules (case-insensitive on Windows and macOS, sensitive elsewhere), after normalizing
/// separators and a leading "./". A path that matches nothing gets the nearest known path as a suggestion; one
/// that matches several is ambiguous; a model that is an AdditionalFile without its encoded form means the
/// package's build step did not run.
/// </summary>
internal static class WeightFileLookup
{
    private static readonly StringComparison PlatformCase =
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) || RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    public static WeightFileMatch Find(ImmutableArray<WeightFileText> files, ImmutableArray<string> rawWeightFiles, string? path)
    {
        if (string.IsNullOrEmpty(path)) return WeightFileMatch.NotFound(null);
        string wanted = Normalize(path!);
        WeightFileText[] matches = files.Where(f => string.Equals(Normalize(f.Path), wanted, PlatformCase)).ToArray();
        if (matches.Length == 1) return new WeightFileMatch(matches[0], EquatableArray<string>.Empty, null, false);
        if (matches.Length > 1) return new WeightFileMatch(null, new EquatableArray<string>(matches.Select(m => m.Path).OrderBy(p => p, StringComparer.Ordinal)), null, false);

        // Not encoded: is the model itself there? (AdditionalText paths are absolute; the attribute's is relative.) Not
        // when an encoded file of the same name is: then the model was encoded under the path the project gives it (its
        // Link), and the attribute should name that path.
        bool raw = rawWeightFiles.Any(f => Normalize(f).EndsWith("/" + wanted, PlatformCase) || string.Equals(Normalize(f), wanted, PlatformCase));
        string? nearest = Nearest(files, wanted);
        bool encodedUnderAnotherPath = nearest is not null && string.Equals(FileName(Normalize(nearest)), FileName(wanted), StringComparison.OrdinalIgnoreCase);
        bool notEncoded = raw && !encodedUnderAnotherPath;
        return new WeightFileMatch(null, EquatableArray<string>.Empty, notEncoded ? null : nearest, notEncoded);
    }

    /// <summary>
    /// The known path the user most likely meant: one with the same file name (a bare name, another folder, another
    /// case), else the closest by edit distance (ignoring case) if it is close enough to be a misspelling.
    /// </summary>
    private static string? Nearest(ImmutableArray<WeightFileText> files, string wanted)
    {
        string name = FileName(wanted);
        string? sameName = files.Select(f => f.Path).Where(p => string.Equals(FileName(Normalize(p)), name, StringComparison.OrdinalIgnoreCase)).OrderBy(p => p, StringComparer.Ordinal).FirstOrDefault();
        if (sameName is not null) return sameName;
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (WeightFileText file in files.OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            int distance = EditDistance(Normalize(file.Path).ToLowerInvariant(), wanted.ToLowerInvariant());
            if (distance < bestDistance) (best, bestDistance) = (file.Path, distance);
        }
        return best is not null && bestDistance <= Math.Max(2, wanted.Length / 3) ? best : null;
    }

    /// <summary>Levenshtein distance: insertions, deletions and substitutions.</summary>
    public static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    private static string FileName(string normalizedPath) => normalizedPath.Substring(normalizedPath.LastIndexOf('/') + 1);

    private static string Normalize(string path)
    {
        string normalized = path.Replace('\\', '/');
        while (normalized.StartsWith("./", StringComparison.Ordinal)) normalized = normalized.Substring(2);
        return normalized.Replace("/./", "/");
    }
}

/// <summary>What a lookup found: the one file, or the paths that make it ambiguous, a suggestion for a misspelling, or that only the raw model is there.</summary>
internal sealed record WeightFileMatch(WeightFileText? File, EquatableArray<string> Ambiguous, string? Suggestion, bool NotEncoded)
{
    public static WeightFileMatch NotFound(string? suggestion) => new(null, EquatableArray<string>.Empty, suggestion, false);

    public static WeightFileMatch Found(WeightFileText file) => new(file, EquatableArray<string>.Empty, null, false);
}
