extern alias gen;
using System.Reflection;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Qtaml.Generators.Tests.Support;
using BuildDefaults = gen::Qtaml.Generators.Model.BuildDefaults;
using CompileInput = gen::Qtaml.Generators.Model.CompileInput;
using GenerationResult = gen::Qtaml.Generators.Model.GenerationResult;
using ModelRequest = gen::Qtaml.Generators.Model.ModelRequest;
using TypeTarget = gen::Qtaml.Generators.Model.TypeTarget;
using WeightFileText = gen::Qtaml.Generators.Model.WeightFileText;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// The seeded structure-aware corpus of <see cref="HostileCorpus"/> (2,000 ONNX and 500 safetensors files) through
/// the generator's compile step, unguarded, each within a time bound: every file must end in a diagnostic or in
/// code that compiles; where ONNX Runtime accepts an ONNX file, the generated float build must agree with it.
/// Each file is compiled twice, as the unquantized reference build (the semantics) and as the default 8-bit
/// build (what users ship), and every source, the throwing members of a failed model included, is compiled.
/// </summary>
public class HostileCorpusTests
{
    private const int OnnxCases = 2000, SafetensorsCases = 500;

    /// <summary>The float build agrees with ONNX Runtime to 1e-4, relative to the output's size where it exceeds 1.</summary>
    private const double Tolerance = 1e-4;

    private sealed record Built(CorpusCase Case, string Namespace, string Source, bool IsModel, float[]? Input, float[]? Expected);

    [Fact]
    public async Task Every_file_of_a_hostile_corpus_ends_in_a_diagnostic_or_code_that_compiles_and_agrees_with_OnnxRuntime()
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        void Count(string key) => counts[key] = counts.TryGetValue(key, out int n) ? n + 1 : 1;
        var failures = new List<string>();
        var batch = new List<Built>();
        var kinds = new SortedDictionary<string, (int Diagnosed, int Generated)>(StringComparer.Ordinal);

        foreach (CorpusCase file in HostileCorpus.Onnx(OnnxCases, seed: 12).Concat(HostileCorpus.Safetensors(SafetensorsCases, seed: 12)))
        {
            bool onnx = file.Path.EndsWith(".onnx", StringComparison.Ordinal);
            string prefix = (onnx ? "O" : "S") + file.Index;
            GenerationResult reference, shipped;
            try
            {
                reference = await CompileBounded(file, prefix + "F", quantize: false);
                shipped = await CompileBounded(file, prefix + "Q", quantize: true);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failures.Add($"{file}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
                continue;
            }

            bool referenceIsModel = !HasError(reference), shippedIsModel = !HasError(shipped);
            foreach (var diagnostic in reference.Diagnostics.Concat(shipped.Diagnostics).Where(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error))
                Count("diagnostic " + diagnostic.Descriptor.Id);
            if (reference.Diagnostics.Any(d => d.Descriptor.Id == "QTAML018")) failures.Add($"{file}: internal error {reference.Diagnostics.First(d => d.Descriptor.Id == "QTAML018").Message}");
            Count(referenceIsModel ? "float build generated" : "float build diagnosed");
            Count(shippedIsModel ? "8-bit build generated" : "8-bit build diagnosed");
            string kindKey = (onnx ? "onnx: " : "safetensors: ") + file.Kind;
            (int diagnosedOfKind, int generatedOfKind) = kinds.GetValueOrDefault(kindKey);
            kinds[kindKey] = referenceIsModel ? (diagnosedOfKind, generatedOfKind + 1) : (diagnosedOfKind + 1, generatedOfKind);

            float[]? input = null, expected = null;
            if (onnx && referenceIsModel)
            {
                (input, expected) = OnnxRuntimeRun(file.Bytes);
                Count(expected is null ? "ONNX Runtime rejects a file Qtaml compiles" : "ONNX Runtime accepts, compared");
            }
            else if (onnx && OnnxRuntimeRun(file.Bytes).Expected is not null)
            {
                Count("ONNX Runtime accepts a file Qtaml diagnoses");
                var first = reference.Diagnostics.First(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);
                Count("  accepted by ONNX Runtime, diagnosed: " + file.Kind + ": " + first.Descriptor.Id + " " + Truncate(System.Text.RegularExpressions.Regex.Replace(first.Message, @"case\d+|'[^']*'", "_"), 100));
            }

            foreach ((GenerationResult result, string ns, bool isModel, bool compare) in new[] { (reference, prefix + "F", referenceIsModel, true), (shipped, prefix + "Q", shippedIsModel, false) })
            {
                if (result.Source is null) { failures.Add($"{file}: no source at all for {ns} (a static partial class always gets one)"); continue; }
                batch.Add(new Built(file, ns, result.Source, isModel, input, compare ? expected : null));
            }
            if (batch.Count >= 200) RunBatch(batch, failures, Count);
        }
        RunBatch(batch, failures, Count);

        var report = new StringBuilder("Hostile corpus: " + OnnxCases + " ONNX and " + SafetensorsCases + " safetensors files\n");
        foreach (var (key, value) in counts) report.Append("  ").Append(key).Append(": ").Append(value).Append('\n');
        report.Append("By kind (float build: diagnosed / generated):\n");
        foreach (var (kind, (diagnosed, generated)) in kinds) report.Append("  ").Append(kind).Append(": ").Append(diagnosed).Append(" / ").Append(generated).Append('\n');
        TestContext.Current.TestOutputHelper?.WriteLine(report.ToString());
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "qtaml-hostile-corpus.txt"), report.ToString());

        Assert.True(failures.Count == 0, failures.Count + " failures:\n" + string.Join("\n", failures.Take(20)) + "\n" + report);
        // The corpus reaches every outcome: diagnoses, generated models, and models ONNX Runtime checks.
        Assert.True(counts.GetValueOrDefault("ONNX Runtime accepts, compared") >= OnnxCases / 10, report.ToString());
        Assert.True(counts.GetValueOrDefault("float build diagnosed") >= (OnnxCases + SafetensorsCases) / 4, report.ToString());
        Assert.All(HostileCorpus.OnnxKinds, kind => Assert.True(kinds.ContainsKey("onnx: " + kind), kind));
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length] + "...";

    private static bool HasError(GenerationResult result) => result.Diagnostics.Any(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);

    /// <summary>One file through the compile step, unguarded and time-bounded (<see cref="BoundedCompile"/>).</summary>
    private static async Task<GenerationResult> CompileBounded(CorpusCase file, string ns, bool quantize)
    {
        var request = ModelRequest.ForFile(file.Path) with { Target = TypeTarget.StaticClass(ns, "Model"), Quantize = quantize };
        var input = new CompileInput(request, new WeightFileText(file.Path, Convert.ToBase64String(file.Bytes)), new BuildDefaults(null, null, null));
        return await BoundedCompile.Run(input, file.ToString());
    }

    /// <summary>ONNX Runtime on a seeded input, or (null, null) when it refuses the file or fails to run it.</summary>
    private static (float[]? Input, float[]? Expected) OnnxRuntimeRun(byte[] model)
    {
        try
        {
            using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
            using var session = new InferenceSession(model, options);
            if (session.InputMetadata.Count != 1 || session.OutputMetadata.Count < 1) return (null, null);
            var (name, metadata) = session.InputMetadata.First();
            if (metadata.ElementType != typeof(float)) return (null, null);
            int[] dims = metadata.Dimensions.Select(d => d < 1 ? 1 : d).ToArray();
            float[] input = TestModels.Input(dims.Aggregate(1, (a, b) => a * b), seed: dims.Length);
            using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(input, dims)) });
            return (input, results[0].AsTensor<float>().ToArray());
        }
        catch (OnnxRuntimeException)
        {
            return (null, null);
        }
    }

    /// <summary>Compiles a batch of generated sources in one compilation (one namespace each), runs the models ONNX Runtime checked, and clears the batch.</summary>
    private static void RunBatch(List<Built> batch, List<string> failures, Action<string> count)
    {
        if (batch.Count == 0) return;
        string Harness(Built b) => "namespace " + b.Namespace + " { public static partial class Model { } public static class Harness { public static int OutputLength => Model.OutputLength; public static void Run(float[] input, float[] output) => Model.Run(input, output); } }";
        Assembly assembly;
        try
        {
            assembly = GeneratorHarness.CompileAndLoad(GeneratorHarness.CreateCompilation(batch.SelectMany(b => new[] { b.Source, Harness(b) }).ToArray()));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Find the sources that do not compile on their own.
            foreach (Built b in batch)
            {
                try { GeneratorHarness.CompileAndLoad(GeneratorHarness.CreateCompilation(b.Source, Harness(b))); }
                catch (Exception single) when (single is not OperationCanceledException) { failures.Add($"{b.Case} ({b.Namespace}): generated code does not compile: {single.Message}"); }
            }
            if (failures.Count == 0) failures.Add("a batch failed to compile but each source compiles alone: " + e.Message);
            batch.Clear();
            return;
        }
        foreach (Built b in batch.Where(b => b.IsModel && b.Input is not null))
        {
            Type harness = assembly.GetType(b.Namespace + ".Harness")!;
            var output = new float[(int)harness.GetProperty("OutputLength")!.GetValue(null)!];
            try
            {
                harness.GetMethod("Run")!.Invoke(null, new object[] { b.Input!, output });
            }
            catch (TargetInvocationException e)
            {
                failures.Add($"{b.Case} ({b.Namespace}): the generated model threw {e.InnerException!.GetType().Name}: {e.InnerException.Message}");
                continue;
            }
            if (b.Expected is null) continue;
            if (b.Expected.Length != output.Length)
            {
                failures.Add($"{b.Case}: ONNX Runtime gives {b.Expected.Length} outputs, the generated model {output.Length}");
                continue;
            }
            int worst = Enumerable.Range(0, output.Length).OrderByDescending(i => Math.Abs(output[i] - b.Expected[i]) / Math.Max(1, Math.Abs(b.Expected[i]))).FirstOrDefault();
            if (output.Length > 0 && !(Math.Abs(output[worst] - b.Expected[worst]) <= Tolerance * Math.Max(1, Math.Abs(b.Expected[worst]))))
                failures.Add($"{b.Case}: silent disagreement with ONNX Runtime at output {worst}: {b.Expected[worst]} against {output[worst]}");
            else count("agrees with ONNX Runtime");
        }
        batch.Clear();
    }
}
