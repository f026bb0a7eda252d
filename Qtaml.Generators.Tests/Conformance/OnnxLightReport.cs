extern alias gen;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ModelReadException = gen::Qtaml.Generators.Network.ModelReadException;
using NetworkGraph = gen::Qtaml.Generators.Network.NetworkGraph;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;
using ProgramCompiler = gen::Qtaml.Generators.Lowering.ProgramCompiler;
using WeightLayer = gen::Qtaml.Generators.Network.WeightLayer;

namespace Qtaml.Generators.Tests.Conformance;

/// <summary>
/// How far each ImageNet architecture of <c>../shared/conformance/onnx-light</c> gets: read and lowered into a kernel
/// program (no C# compiled). The weighted files are large, so this runs on request only: make them with
/// <c>make-weights.sh /tmp/light</c>, then <c>QTAML_ONNX_LIGHT=/tmp/light dotnet test -- --filter-method "*Every_onnx_light*"
/// --explicit only</c>. It fails on a model the reader refuses, and prints one row per model.
/// </summary>
public class OnnxLightReport
{
    private readonly ITestOutputHelper _output;

    public OnnxLightReport(ITestOutputHelper output) => _output = output;

    [Fact(Explicit = true)]
    public void Every_onnx_light_model_gets_through_the_reader_and_lowering()
    {
        string folder = Environment.GetEnvironmentVariable("QTAML_ONNX_LIGHT") ?? throw new InvalidOperationException("set QTAML_ONNX_LIGHT to the folder make-weights.sh wrote");
        var table = new StringBuilder("| model | layers | weights | steps | read + lower (s) | result |\n|---|---:|---:|---:|---:|---|\n");
        var refused = new List<string>();
        foreach (string file in Directory.GetFiles(folder, "*.onnx").OrderBy(f => new FileInfo(f).Length))
        {
            string name = Path.GetFileNameWithoutExtension(file);
            var clock = Stopwatch.StartNew();
            try
            {
                NetworkGraph graph = OnnxReader.Read(name + ".onnx", File.ReadAllBytes(file));
                var program = ProgramCompiler.Compile(graph);
                long weights = graph.Layers.OfType<WeightLayer>().Sum(l => (long)l.Weights.Length);
                table.Append(CultureInfo.InvariantCulture, $"| {name} | {graph.Layers.Length} | {weights:N0} | {program.Steps.Count} | {clock.Elapsed.TotalSeconds:F1} | read and lowered |\n");
            }
            catch (ModelReadException e)
            {
                string message = e.Descriptor.Id + ": " + string.Format(CultureInfo.InvariantCulture, e.Descriptor.MessageFormat.ToString(CultureInfo.InvariantCulture), e.Arguments);
                table.Append(CultureInfo.InvariantCulture, $"| {name} | | | | {clock.Elapsed.TotalSeconds:F1} | {message.Replace("|", "\\|", StringComparison.Ordinal)} |\n");
                refused.Add(name + ": " + message);
            }
        }
        _output.WriteLine(table.ToString());
        File.WriteAllText(Path.Combine(folder, "report.md"), table.ToString());
        Assert.Empty(refused);
    }

    /// <summary>The most weights compiled here: QTAML012's cap, or less with QTAML_ONNX_LIGHT_MAX_WEIGHTS (each model is built three times in this process).</summary>
    private static long SizeCap => long.TryParse(Environment.GetEnvironmentVariable("QTAML_ONNX_LIGHT_MAX_WEIGHTS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out long cap) ? cap : 64_000_000;

    [Fact(Explicit = true)]
    public void The_onnx_light_models_within_the_size_cap_compile_and_match_OnnxRuntime_in_float()
    {
        string folder = Environment.GetEnvironmentVariable("QTAML_ONNX_LIGHT") ?? throw new InvalidOperationException("set QTAML_ONNX_LIGHT to the folder make-weights.sh wrote");
        var table = new StringBuilder("| model | compared | weights | build (s) | largest error / largest output | top-1 agrees | 2nm no flip: error, top-1 | plain 8-bit: error, top-1 |\n|---|---|---:|---:|---:|---|---|---|\n");
        var wrong = new List<string>();
        foreach (string file in Directory.GetFiles(folder, "*.onnx").OrderBy(f => new FileInfo(f).Length))
        {
            string name = Path.GetFileNameWithoutExtension(file);
            // Logits, not probabilities: seeded weights saturate a final Softmax to one-hot, where every build agrees.
            (byte[] model, bool stripped) = WithoutFinalSoftmax(File.ReadAllBytes(file));
            NetworkGraph graph = OnnxReader.Read(name + ".onnx", model);
            long weights = graph.Layers.OfType<WeightLayer>().Sum(l => (long)l.Weights.Length);
            if (weights > SizeCap) continue;
            var clock = Stopwatch.StartNew();
            (Func<float[], float[]> run, _) = Generator.OnnxRuntimeComparisonTests.Compile(model, ", Quantize = false");
            double seconds = clock.Elapsed.TotalSeconds;
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(model);
            string inputName = session.InputMetadata.Keys.First();
            int[] dims = graph.InputShape;
            // The 2nm build at EccBudget = 1.0 read with no flip beside plain 8-bit codes: compensation must do no harm.
            (Func<float[], float[]> node, _) = Generator.OnnxRuntimeComparisonTests.Compile(model, ", Node = \"2nm\", EccBudget = 1.0");
            (Func<float[], float[]> plain, _) = Generator.OnnxRuntimeComparisonTests.Compile(model, ", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0");
            double worst = 0, worstNode = 0, worstPlain = 0;
            int sameClass = 0, sameNode = 0, samePlain = 0;
            const int Seeds = 4;
            for (int seed = 0; seed < Seeds; seed++)
            {
                float[] input = Generator.TestModels.Input(dims.Aggregate(1, (a, b) => a * b), seed).Select(v => 2 * v - 1).ToArray();
                var tensor = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(input, dims);
                using var results = session.Run(new[] { Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(inputName, tensor) });
                float[] expected = results[0].AsTensor<float>().ToArray();
                double scale = expected.Max(v => Math.Abs(v));
                int top = Array.IndexOf(expected, expected.Max());
                (double Error, bool Same) Compare(float[] actual) => (expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max() / scale, Array.IndexOf(actual, actual.Max()) == top);
                (double e1, bool s1) = Compare(run(input));
                (double e2, bool s2) = Compare(node(input));
                (double e3, bool s3) = Compare(plain(input));
                (worst, worstNode, worstPlain) = (Math.Max(worst, e1), Math.Max(worstNode, e2), Math.Max(worstPlain, e3));
                sameClass += s1 ? 1 : 0;
                sameNode += s2 ? 1 : 0;
                samePlain += s3 ? 1 : 0;
            }
            table.Append(CultureInfo.InvariantCulture, $"| {name} | {(stripped ? "logits" : "output")} | {weights:N0} | {seconds:F0} | {worst:E1} | {sameClass} of {Seeds} | {worstNode:E1}, {sameNode} of {Seeds} | {worstPlain:E1}, {samePlain} of {Seeds} |\n");
            if (worst > 1e-4) wrong.Add(name + ": " + worst.ToString("E1", CultureInfo.InvariantCulture));
        }
        _output.WriteLine(table.ToString());
        File.WriteAllText(Path.Combine(folder, "float-report.md"), table.ToString());
        Assert.Empty(wrong);
    }

    /// <summary>The model with its final Softmax removed (the graph's output renamed to the Softmax's input), if it ends in one.</summary>
    internal static (byte[] Model, bool Stripped) WithoutFinalSoftmax(byte[] bytes)
    {
        var model = Qtaml.Generators.Onnx.Schema.ModelProto.Parser.ParseFrom(bytes);
        var graph = model.Graph;
        if (graph.Output.Count != 1) return (bytes, false);
        var last = graph.Node.LastOrDefault(n => n.Output.Contains(graph.Output[0].Name));
        if (last is null || last.OpType != "Softmax" || graph.Node.Any(n => n != last && n.Input.Contains(graph.Output[0].Name))) return (bytes, false);
        graph.Node.Remove(last);
        graph.Output[0].Name = last.Input[0];
        return (Google.Protobuf.MessageExtensions.ToByteArray(model), true);
    }
}
