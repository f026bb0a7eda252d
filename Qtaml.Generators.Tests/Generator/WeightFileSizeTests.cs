extern alias gen;
using System.Collections;
using Google.Protobuf;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Microsoft.CodeAnalysis;
using Qtaml.Build;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Generators.Tests.Support;
using OnnxSizeScan = gen::Qtaml.Generators.Onnx.OnnxSizeScan;
using QtamlGenerator = gen::Qtaml.Generators.TunnelingCompensatedGenerator;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// Sizes before contents: the build step streams a weight file into its encoded form and does not read one past its
/// limit; the generator reads an ONNX file's sizes from its structure before parsing it, and says why a model is
/// refused (its size), not that the file looks truncated.
/// </summary>
public class WeightFileSizeTests
{
    private const string Path = "Models/model.onnx";

    /// <summary>Runs the task on one file with the given limit; returns the encoded text it wrote.</summary>
    private static (bool Succeeded, string Text, string Errors) Encode(byte[] bytes, long maxFileBytes)
    {
        string folder = Directory.CreateTempSubdirectory("qtaml-encode-").FullName;
        try
        {
            string source = System.IO.Path.Combine(folder, "model.onnx"), target = System.IO.Path.Combine(folder, "obj", "model.onnx.qtaml.b64");
            File.WriteAllBytes(source, bytes);
            var item = new TaskItem(source);
            item.SetMetadata("QtamlProjectPath", Path);
            item.SetMetadata("QtamlEncodedFile", target);
            var engine = new RecordingEngine();
            var task = new EncodeWeightFiles { WeightFiles = new ITaskItem[] { item }, MaxFileBytes = maxFileBytes, BuildEngine = engine };
            bool succeeded = task.Execute();
            return (succeeded, File.Exists(target) ? File.ReadAllText(target) : "", string.Join("\n", engine.Errors));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_build_step_encodes_in_chunks_that_decode_to_the_whole_file()
    {
        // Past one chunk (768 KiB) and not a multiple of 3: the chunks' base64 must concatenate to the file's.
        var bytes = new byte[1_000_001];
        new Random(5).NextBytes(bytes);
        (bool succeeded, string text, string errors) = Encode(bytes, EncodeWeightFiles.DefaultMaxFileBytes);
        Assert.True(succeeded, errors);
        Assert.Equal(QtamlGenerator.WeightFileHeader + Path + "\n" + Convert.ToBase64String(bytes) + "\n", text);
    }

    [Fact]
    public void A_file_past_the_build_steps_limit_is_not_read_and_the_generator_says_why()
    {
        Assert.Equal(QtamlGenerator.WeightFileHeader, EncodeWeightFiles.Header);
        Assert.Equal(QtamlGenerator.TooLargeMarker, EncodeWeightFiles.TooLargeMarker);
        byte[] model = TestModels.Mlp().Build(new long[] { 1, 10 });
        (bool succeeded, string text, _) = Encode(model, model.Length - 1);
        Assert.True(succeeded);
        Assert.Equal(QtamlGenerator.WeightFileHeader + Path + "\n" + EncodeWeightFiles.TooLargeMarker + model.Length + " " + (model.Length - 1) + "\n", text);

        GeneratorHarness.Result result = GeneratorHarness.Run(TestModels.Consumer(Path), new[] { GeneratorHarness.EncodedText("obj/qtaml/Models_model.onnx.qtaml.b64", text) });
        Diagnostic d = Assert.Single(result.GeneratorDiagnostics, x => x.DefaultSeverity == DiagnosticSeverity.Error);
        Assert.Equal("QTAML032", d.Id);
        Assert.Contains($"is {model.Length:N0} bytes", d.GetMessage(), StringComparison.Ordinal);
        Assert.Contains($"at most {model.Length - 1:N0} bytes", d.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("64,000,000 weights", d.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_size_scan_counts_every_initializer_value_of_a_real_model()
    {
        foreach (string file in new[] { "digits-mlp.onnx", "digits-cnn.onnx" })
        {
            byte[] bytes = File.ReadAllBytes(System.IO.Path.Combine(RepositoryPaths.Root, "sample-app", "Models", file));
            ModelProto model = ModelProto.Parser.ParseFrom(bytes);
            long expected = model.Graph.Initializer.Sum(t => t.Dims.Aggregate(1L, (a, d) => a * d));
            Assert.True(expected > 1000);
            Assert.Equal(expected, OnnxSizeScan.InitializerValues(bytes));
        }
    }

    [Fact]
    public void The_size_scan_counts_no_more_than_a_tensor_carries_and_never_throws()
    {
        // A tensor claiming a billion values in 12 bytes is malformed (the reader says so), not large.
        byte[] lying = Mutate(TestModels.Mlp().Build(new long[] { 1, 10 }), model =>
            model.Graph.Initializer.Add(new TensorProto { Name = "liar", DataType = 1, Dims = { 1000, 1000, 1000 }, RawData = ByteString.CopyFrom(new byte[12]) }));
        long honest = OnnxSizeScan.InitializerValues(TestModels.Mlp().Build(new long[] { 1, 10 }));
        Assert.Equal(honest + 12, OnnxSizeScan.InitializerValues(lying));
        // Every truncation and a byte flipped anywhere: a count, never an exception.
        var random = new Random(9);
        for (int cut = 0; cut < lying.Length; cut += 7)
        {
            OnnxSizeScan.InitializerValues(lying.AsSpan(0, cut).ToArray());
            byte[] flipped = (byte[])lying.Clone();
            flipped[random.Next(flipped.Length)] ^= (byte)(1 << random.Next(8));
            Assert.InRange(OnnxSizeScan.InitializerValues(flipped), 0, long.MaxValue);
        }
    }

    [Fact]
    public void QTAML012_from_the_files_structure_names_its_initializers_before_reading_them()
    {
        // 65,000,000 one-byte values: past the cap, refused from the sizes alone (the reader would reject uint8 weights
        // for another reason; the size is the real one).
        byte[] model = Mutate(TestModels.Mlp().Build(new long[] { 1, 10 }), proto =>
            proto.Graph.Initializer.Add(new TensorProto { Name = "table", DataType = 2, Dims = { 65_000_000 }, RawData = ByteString.CopyFrom(new byte[65_000_000]) }));
        GeneratorHarness.Result result = GeneratorHarness.Run(TestModels.Consumer(Path), new[] { GeneratorHarness.WeightFile(Path, model) });
        Diagnostic d = Assert.Single(result.GeneratorDiagnostics, x => x.DefaultSeverity == DiagnosticSeverity.Error);
        Assert.Equal("QTAML012", d.Id);
        Assert.Contains("values in its initializers", d.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("at most 64,000,000 weights", d.GetMessage(), StringComparison.Ordinal);
    }

    private static byte[] Mutate(byte[] model, Action<ModelProto> change)
    {
        ModelProto proto = ModelProto.Parser.ParseFrom(model);
        change(proto);
        return proto.ToByteArray();
    }

    /// <summary>The least of MSBuild's engine a task needs: it records errors.</summary>
    private sealed class RecordingEngine : IBuildEngine
    {
        public List<string> Errors { get; } = new();
        public bool ContinueOnError => false;
        public int LineNumberOfTaskNode => 0;
        public int ColumnNumberOfTaskNode => 0;
        public string ProjectFileOfTaskNode => "test.csproj";
        public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => false;
        public void LogCustomEvent(CustomBuildEventArgs e) { }
        public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(e.Message ?? "");
        public void LogMessageEvent(BuildMessageEventArgs e) { }
        public void LogWarningEvent(BuildWarningEventArgs e) { }
    }
}
