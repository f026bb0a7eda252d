using System.Globalization;
using System.Runtime.InteropServices;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// A consumer on .NET 8, the LTS most shipping edge apps are on: it restores Qtaml.Runtime's net8.0 build, the
/// generated code compiles against .NET 8's API, and it runs (self-contained, with the .NET 8 runtime pack from
/// NuGet, so no .NET 8 install is needed) and agrees with ONNX Runtime.
/// </summary>
public class DotNet8ConsumerTests
{
    private const string Program = """
        using System.Globalization;
        void Print(string name, Action<float[], float[]> run, int inputs, int outputs)
        {
            float[] x = Enumerable.Range(0, inputs).Select(i => (i % 13) / 13f).ToArray();
            float[] y = new float[outputs];
            run(x, y);
            Console.WriteLine(name + " " + string.Join(" ", y.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        }
        Print("cnn", (i, o) => Models.Cnn.Run(i, o), Models.Cnn.InputLength, Models.Cnn.OutputLength);
        Print("encoder", (i, o) => Models.Encoder.Run(i, o), Models.Encoder.InputLength, Models.Encoder.OutputLength);
        Print("cnn8", (i, o) => Models.Cnn8.Run(i, o), Models.Cnn8.InputLength, Models.Cnn8.OutputLength);
        Console.WriteLine("runtime " + System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription);

        namespace Models
        {
            [Qtaml.TunnelingCompensated("Models/cnn.onnx", Quantize = false)] public static partial class Cnn { }
            [Qtaml.TunnelingCompensated("Models/encoder.onnx", Quantize = false)] public static partial class Encoder { }
            [Qtaml.TunnelingCompensated("Models/cnn.onnx", Bits = 8, EccBudget = 8.0)] public static partial class Cnn8 { }
        }
        """;

    [Fact]
    public void A_net8_consumer_builds_runs_and_agrees_with_OnnxRuntime()
    {
        OnnxModelBuilder cnn = TestModels.ChannelsLastCnn();
        byte[] cnnFile = cnn.Build(new long[] { 1, 10 }), encoderFile = TinyEncoder.Build(3);
        using var project = new ConsumerProject(Program, targetFramework: "net8.0");
        project.WriteModel("Models/cnn.onnx", cnnFile);
        project.WriteModel("Models/encoder.onnx", encoderFile);

        (int code, string output) = project.Dotnet("run -r " + RuntimeInformation.RuntimeIdentifier + " --self-contained -p:NoWarn=QTAML010%3BQTAML011", TimeSpan.FromMinutes(6));
        Assert.True(code == 0, output);
        Assert.Contains("runtime .NET 8.", output);

        float[] Line(string name) => output.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal))
            .Split(' ').Skip(1).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Compare(cnnFile, cnn.InputShape, Line("cnn"));
        Compare(encoderFile, new long[] { 1, TinyEncoder.Tokens, TinyEncoder.Width }, Line("encoder"));
        Assert.Equal(10, Line("cnn8").Length);
    }

    private static void Compare(byte[] model, long[] inputShape, float[] actual)
    {
        var input = Enumerable.Range(0, (int)inputShape.Skip(1).Aggregate(1L, (a, b) => a * b)).Select(i => (i % 13) / 13f).ToArray();
        using var reference = new OnnxRuntimeReference(model, inputShape);
        float[] expected = reference.Run(input);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"output {i}: ONNX Runtime {expected[i]}, .NET 8 build {actual[i]}");
    }
}
