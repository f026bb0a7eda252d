using Qtaml.Generators.Tests.Support;
using Qtaml.Tool.Build;

namespace Qtaml.Generators.Tests.Tool;

/// <summary>
/// qtaml keeps compiled models between runs: a second build of the same model with the same options loads the first's
/// assembly (no generator, no Roslyn), and anything that changes the assembly (an option, the model's bytes) is a
/// different entry. Counted by the cache, not timed.
/// </summary>
public sealed class BuildCacheTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "qtaml-cache-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static BuildRequest Request(double budget, byte[]? model = null)
    {
        string path = RepositoryPaths.Combine("sample-app", "Models", "digits-mlp.onnx");
        return new BuildRequest(path, model ?? File.ReadAllBytes(path), new FaultEnvironment("2nm", 0), 8, budget);
    }

    [Fact]
    public void A_second_build_of_the_same_model_loads_the_first_from_the_cache()
    {
        var cache = new BuildCache(_folder);
        BuiltModel first = InProcessBuild.Build(Request(0.5), Array.Empty<WeightEncoding>(), cache);
        Assert.Equal((0, 1), (cache.Hits, cache.Misses));
        BuiltModel second = InProcessBuild.Build(Request(0.5), Array.Empty<WeightEncoding>(), cache);
        Assert.Equal((1, 1), (cache.Hits, cache.Misses));
        // The same model, plan and diagnostics: what the user reads does not depend on where the build came from.
        Assert.Equal(first.Shipped.Info.ToString(), second.Shipped.Info.ToString());
        Assert.Equal(first.Diagnostics, second.Diagnostics);
        var input = new float[784];
        float[] a = new float[10], b = new float[10];
        first.Reference.Run(input, a);
        second.Reference.Run(input, b);
        Assert.Equal(a, b);
        Assert.Single(Directory.GetFiles(_folder, "*.dll"));
    }

    [Fact]
    public void A_changed_option_or_model_is_compiled_again()
    {
        var cache = new BuildCache(_folder);
        InProcessBuild.Build(Request(0.5), Array.Empty<WeightEncoding>(), cache);
        InProcessBuild.Build(Request(0.25), Array.Empty<WeightEncoding>(), cache);
        byte[] model = File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", "digits-mlp.onnx"));
        string key = BuildCache.Key("source", model, null);
        model[^1] ^= 1;
        Assert.NotEqual(key, BuildCache.Key("source", model, null));
        Assert.NotEqual(key, BuildCache.Key("source", model[..^1], null));
        Assert.Equal((0, 2), (cache.Hits, cache.Misses));
        Assert.Equal(2, Directory.GetFiles(_folder, "*.dll").Length);
    }

    [Fact]
    public void An_entry_that_cannot_be_read_is_compiled_again()
    {
        var cache = new BuildCache(_folder);
        InProcessBuild.Build(Request(0.5), Array.Empty<WeightEncoding>(), cache);
        foreach (string file in Directory.GetFiles(_folder, "*.json")) File.WriteAllText(file, "not json");
        InProcessBuild.Build(Request(0.5), Array.Empty<WeightEncoding>(), cache);
        Assert.Equal((0, 2), (cache.Hits, cache.Misses));
    }

    [Fact]
    public void Inspect_and_campaign_offer_no_cache()
    {
        Assert.Contains("--no-cache", QtamlRunner.Run("inspect", "--help").Output, StringComparison.Ordinal);
        Assert.Contains("--no-cache", QtamlRunner.Run("campaign", "--help").Output, StringComparison.Ordinal);
    }
}
