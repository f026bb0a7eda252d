using System.Diagnostics;

namespace Qtaml.Benchmarks;

/// <summary>
/// The first enabled package source of the machine's NuGet configuration (what <c>dotnet nuget list source</c>
/// reports from the benchmark's folder), so no registry address is written into the repository.
/// </summary>
internal static class ConfiguredPackageSource
{
    public static string First()
    {
        var start = new ProcessStartInfo("dotnet", "nuget list source --format Short") { RedirectStandardOutput = true, UseShellExecute = false };
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("dotnet could not be started to list the package sources.");
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        // Short format: one source a line, "E <url>" for an enabled one, "D <url>" for a disabled one.
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (line.StartsWith("E ", StringComparison.Ordinal)) return line[2..].Trim();
        throw new InvalidOperationException("No enabled NuGet package source is configured (dotnet nuget list source); NativeAOT benchmarks restore the ILCompiler from one.");
    }
}
