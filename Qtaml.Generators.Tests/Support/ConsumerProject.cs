using System.Diagnostics;

namespace Qtaml.Generators.Tests.Support;

/// <summary>
/// A real consumer project on disk, built with <c>dotnet build</c>: it references the generator the way a
/// project in this repository does and imports the same props/targets the NuGet package ships, so the
/// MSBuild route for binary weight files is exercised end to end.
/// </summary>
internal sealed class ConsumerProject : IDisposable
{
    public ConsumerProject(string program, string extraItems = "", string targetFramework = "net10.0")
    {
        string repository = RepositoryPaths.Root;
        Directory = Path.Combine(Path.GetTempPath(), "qtaml-consumer-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "Models"));
        File.WriteAllText(Path.Combine(Directory, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <Import Project="{repository}/Qtaml.Generators/build/Qtaml.Generators.props" />
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>{targetFramework}</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
                <QtamlNode>7nm</QtamlNode>
                <QtamlTasksAssembly>{repository}/Qtaml.Build.Tasks/bin/{Configuration}/netstandard2.0/Qtaml.Build.Tasks.dll</QtamlTasksAssembly>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{repository}/Qtaml.Runtime/Qtaml.Runtime.csproj" />
                <ProjectReference Include="{repository}/Qtaml.Generators/Qtaml.Generators.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
                {extraItems}
              </ItemGroup>
              <Import Project="{repository}/Qtaml.Generators/build/Qtaml.Generators.targets" />
            </Project>
            """);
        // Keep the repository's Directory.Build.props and central package versions out of the consumer.
        File.WriteAllText(Path.Combine(Directory, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(Directory, "Directory.Packages.props"), "<Project />");
        File.WriteAllText(Path.Combine(Directory, "Program.cs"), program);
    }

    public string Directory { get; }

    /// <summary>The configuration these tests were built in (bin/Debug or bin/Release), whose task assembly the consumer uses.</summary>
    private static string Configuration => AppContext.BaseDirectory.Replace('\\', '/').Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    public void WriteModel(string relativePath, byte[] bytes)
    {
        string path = Path.Combine(Directory, relativePath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>Runs a dotnet command in the project folder; returns its exit code and everything it printed.</summary>
    public (int ExitCode, string Output) Dotnet(string arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDNODEREUSE"] = "0";
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(), error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {arguments} did not finish within {timeout}");
        }
        return (process.ExitCode, output.Result + error.Result);
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}
