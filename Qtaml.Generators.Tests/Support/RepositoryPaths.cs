using System.Reflection;

namespace Qtaml.Generators.Tests.Support;

/// <summary>
/// Paths inside this repository, from the root the test project records at build time. Not from
/// <c>[CallerFilePath]</c>: a continuous-integration build maps source paths to <c>/_/</c> for deterministic output.
/// </summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = typeof(RepositoryPaths).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepositoryRoot").Value!;

    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);
}
