using System.Runtime.CompilerServices;

namespace Qtaml.Generators.Tests.Support;

/// <summary>
/// The tests' own qtaml build cache: a folder under the temporary directory, set before anything reads
/// <c>QTAML_CACHE</c>, so a test run neither fills the user's cache nor reads builds a user's runs left there (the tool
/// run in process, and the processes tests start, inherit it).
/// </summary>
internal static class TestBuildCache
{
    [ModuleInitializer]
    internal static void UseTemporaryFolder()
    {
        if (Environment.GetEnvironmentVariable("QTAML_CACHE") is { Length: > 0 }) return;
        Environment.SetEnvironmentVariable("QTAML_CACHE", Path.Combine(Path.GetTempPath(), "qtaml-tests-build-cache"));
    }
}
