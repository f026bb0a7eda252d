using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// The binary-file route end to end: a consumer project with a weight file, built by MSBuild. The package's
/// targets turn the file into base64 text in obj/, the generator compiles it, and re-exporting the model
/// (new bytes, same path) changes what the next build runs: no stale output.
/// </summary>
public class MsBuildRouteTests
{
    private const string Program = """
        using System.Globalization;
        float[] input = Enumerable.Range(0, Models.Model.InputLength).Select(i => (float)(i % 7) / 7f).ToArray();
        float[] output = new float[Models.Model.OutputLength];
        Models.Model.Run(input, output);
        Console.WriteLine("node " + Models.Model.Info.Node);
        Console.WriteLine("output " + string.Join(" ", output.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));

        namespace Models
        {
            [Qtaml.TunnelingCompensated("Models/model.onnx", FlipProbability = 0.0, EccBudget = 0.0)]
            public static partial class Model { }
        }
        """;

    private static byte[] Model(int seed) => TestModels.Mlp(seed).Build(new long[] { 1, 10 });

    [Fact]
    public void Editing_the_weight_file_changes_what_the_next_build_runs()
    {
        using var project = new ConsumerProject(Program);
        project.WriteModel("Models/model.onnx", Model(seed: 1));
        TimeSpan limit = TimeSpan.FromMinutes(4);

        (int code, string output) = project.Dotnet("run", limit);
        Assert.True(code == 0, output);
        string first = output.Split('\n').Single(l => l.StartsWith("output ", StringComparison.Ordinal));
        Assert.Contains("node 7nm", output);   // QtamlNode from the project file reached the generator

        project.WriteModel("Models/model.onnx", Model(seed: 2));
        (code, output) = project.Dotnet("run", limit);
        Assert.True(code == 0, output);
        string second = output.Split('\n').Single(l => l.StartsWith("output ", StringComparison.Ordinal));
        Assert.NotEqual(first, second);

        // And back: the same bytes give the same program again.
        project.WriteModel("Models/model.onnx", Model(seed: 1));
        (code, output) = project.Dotnet("run", limit);
        Assert.True(code == 0, output);
        Assert.Equal(first, output.Split('\n').Single(l => l.StartsWith("output ", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_weight_file_kept_elsewhere_is_named_by_its_Link()
    {
        // The model lives in external/ and is shown in the project as Models/linked.onnx: the attribute names the Link.
        string program = Program.Replace("Models/model.onnx", "Models/linked.onnx", StringComparison.Ordinal);
        using var project = new ConsumerProject(program, """<AdditionalFiles Include="external/weights.onnx" Link="Models/linked.onnx" />""");
        project.WriteModel("external/weights.onnx", Model(seed: 3));
        (int code, string output) = project.Dotnet("run", TimeSpan.FromMinutes(4));
        Assert.True(code == 0, output);
        Assert.Contains("node 7nm", output);
    }
}
