using System;
using System.Collections.Immutable;
using System.Linq;
using Qtaml.Generators.Model;

namespace Qtaml.Generators.Parsing;

/// <summary>Finds the weight file an attribute names among the project's encoded weight files.</summary>
internal static class WeightFileLookup
{
    /// <summary>The file whose path is the attribute's path, compared by its trailing segments, separators normalized.</summary>
    public static WeightFileText? Find(ImmutableArray<WeightFileText> files, string? path)
    {
        if (string.IsNullOrEmpty(path)) return null;
        string wanted = Normalize(path!);
        return files.FirstOrDefault(f =>
        {
            string candidate = Normalize(f.Path);
            return candidate.Equals(wanted, StringComparison.OrdinalIgnoreCase)
                || candidate.EndsWith("/" + wanted.TrimStart('/'), StringComparison.OrdinalIgnoreCase);
        });
    }

    private static string Normalize(string path) => path.Replace('\\', '/').Replace("/./", "/").TrimStart('.', '/');
}
