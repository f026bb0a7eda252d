using System.Globalization;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Conformance;

/// <summary>
/// Compiles a backend test's model as a user would (the generator, then the C# compiler), runs it on the test's
/// inputs and compares with the reference. Float builds are compared with the ONNX project's expected outputs;
/// 8-bit builds with ONNX Runtime running the same file with every weight replaced by its dequantized value
/// (<see cref="DequantizedOnnx"/>), which is exactly what the quantized code computes with no flips. Both within
/// 1e-4 of the tensor's largest magnitude (float32 summation order differs; the quantization error itself is
/// reported beside it as the distance to the float reference).
/// </summary>
internal static class BackendRunner
{
    public const double Tolerance = 1e-4;

    public static BackendResult Run(BackendCase test)
    {
        (string[] operators, long opset) = test.Operators();
        OnnxTensorFile[] inputs = test.Inputs, expected = test.Outputs;
        OnnxTensorFile? other = inputs.Where(t => !t.IsInteger).Concat(expected).FirstOrDefault(t => !t.IsFloat && !t.IsFloat64);
        if (other is not null)
        {
            // The generated Run takes float32 spans (integer indices as whole floats, float64 values narrowed), so the generator must refuse a model with other inputs or outputs.
            BuildResult refused = Build(test.Model, ", Quantize = false", null, null, null);
            if (refused.Outcome != Outcome.Diagnostic) refused = new BuildResult(Outcome.Wrong, "compiled, though the model's tensors are of ONNX type " + other.DataType + ", not float32");
            return new BackendResult(test, operators, opset, refused, BuildResult.NotApplicable);
        }

        BuildResult result = Build(test.Model, ", Quantize = false", inputs, expected.Select(e => e.Values!).ToArray(), null);
        BuildResult quantized = BuildResult.NotApplicable;
        if (result.Outcome == Outcome.Pass && test.HasWeights())
        {
            byte[] dequantized = DequantizedOnnx.Rewrite(test.Model, 8);
            (float[][]? reference, string by) = (OnnxRuntime(dequantized, inputs), "ONNX Runtime");
            if (reference is null)
            {
                // ONNX Runtime no longer runs the oldest opsets; the float build, which matched the ONNX project's own
                // outputs above, runs the dequantized file instead.
                reference = FloatBuild(dequantized, inputs, expected.Length);
                by = "the float build";
            }
            quantized = reference is null ? new BuildResult(Outcome.Diagnostic, "(harness) no reference runs the dequantized file")
                : Build(test.Model, ", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0", inputs, reference, expected.Select(e => e.Values!).ToArray());
            if (quantized.Outcome == Outcome.Pass) quantized = quantized with { Detail = quantized.Detail + ", against " + by };
        }
        return new BackendResult(test, operators, opset, result, quantized);
    }

    /// <summary>Compiles the model and runs it on the inputs against the reference; with no inputs, only compiles it.</summary>
    private static BuildResult Build(byte[] model, string arguments, OnnxTensorFile[]? inputs, float[][]? reference, float[][]? floatReference)
    {
        string source = Consumer(inputs?.Length ?? 1, reference?.Length ?? 1, arguments);
        var generated = GeneratorHarness.Run(source, new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        Diagnostic? error = generated.GeneratorDiagnostics.FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error);
        if (error is not null) return new BuildResult(Outcome.Diagnostic, error.Id + ": " + error.GetMessage(CultureInfo.InvariantCulture));
        if (inputs is null || reference is null) return new BuildResult(Outcome.Pass, "compiled");

        Assembly assembly;
        try
        {
            assembly = GeneratorHarness.CompileAndLoad(generated.Output);
        }
        catch (Xunit.Sdk.XunitException e)
        {
            return new BuildResult(Outcome.Wrong, "the generated code does not compile: " + e.Message.Split('\n').Skip(1).FirstOrDefault());
        }
        MethodInfo run = assembly.GetType("Models.Harness")!.GetMethod("Run")!;
        float[][] actual = reference.Select(r => new float[r.Length]).ToArray();
        try
        {
            run.Invoke(null, inputs.Select(i => (object)i.Values!).Concat(actual).ToArray());
        }
        catch (TargetInvocationException e) when (e.InnerException is ArgumentException)
        {
            return new BuildResult(Outcome.Wrong, "the generated Run refused the test's tensors: " + e.InnerException.Message);
        }
        double worst = 0;
        for (int o = 0; o < reference.Length; o++)
        {
            double scale = Math.Max(1e-30, reference[o].Where(float.IsFinite).Select(v => Math.Abs((double)v)).DefaultIfEmpty(0).Max());
            for (int i = 0; i < reference[o].Length; i++)
            {
                // A NaN or infinity where the reference has the same (the square root of a negative input) agrees.
                if (!float.IsFinite(reference[o][i]) && reference[o][i].Equals(actual[o][i])) continue;
                double error_ = Math.Abs(actual[o][i] - (double)reference[o][i]) / Math.Max(scale, Math.Abs(reference[o][i]));
                if (!(error_ <= Tolerance))
                    return new BuildResult(Outcome.Wrong, $"output {o} value {i}: expected {reference[o][i]:G9}, got {actual[o][i]:G9}");
                worst = Math.Max(worst, error_);
            }
        }
        string detail = "max error " + worst.ToString("0.0e0", CultureInfo.InvariantCulture);
        if (floatReference is not null)
        {
            double quantization = 0;
            for (int o = 0; o < floatReference.Length; o++)
            {
                double scale = Math.Max(1e-30, floatReference[o].Max(v => Math.Abs((double)v)));
                for (int i = 0; i < floatReference[o].Length; i++) quantization = Math.Max(quantization, Math.Abs(actual[o][i] - (double)floatReference[o][i]) / scale);
            }
            detail += ", " + quantization.ToString("0.0e0", CultureInfo.InvariantCulture) + " from float";
        }
        return new BuildResult(Outcome.Pass, detail);
    }

    /// <summary>The float build's outputs for the test's inputs, or null when it does not compile.</summary>
    private static float[][]? FloatBuild(byte[] model, OnnxTensorFile[] inputs, int outputs)
    {
        var generated = GeneratorHarness.Run(Consumer(inputs.Length, outputs, ", Quantize = false"), new[] { GeneratorHarness.WeightFile("Models/model.onnx", model) });
        if (generated.GeneratorDiagnostics.Any(d => d.Severity == DiagnosticSeverity.Error)) return null;
        if (outputs != 1) return null;
        Assembly assembly = GeneratorHarness.CompileAndLoad(generated.Output);
        MethodInfo run = assembly.GetType("Models.Harness")!.GetMethod("Run")!;
        var y = new float[(int)assembly.GetType("Models.Model")!.GetProperty("OutputLength")!.GetValue(null)!];
        run.Invoke(null, inputs.Select(i => (object)i.Values!).Append(y).ToArray());
        return new[] { y };
    }

    /// <summary>ONNX Runtime's outputs for the test's inputs, fed to the graph's inputs in order; null where it cannot run the file.</summary>
    private static float[][]? OnnxRuntime(byte[] model, OnnxTensorFile[] inputs)
    {
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        InferenceSession session;
        try
        {
            session = new InferenceSession(model, options);
        }
        catch (OnnxRuntimeException)
        {
            return null;
        }
        using var _ = session;
        string[] names = session.InputMetadata.Keys.ToArray();
        var feeds = inputs.Select((t, i) => t.DataType switch
        {
            OnnxTensorFile.Int64Type => NamedOnnxValue.CreateFromTensor(names[i], new DenseTensor<long>(t.Values!.Select(v => (long)v).ToArray(), t.Dims.Select(d => (int)d).ToArray())),
            OnnxTensorFile.Int32Type => NamedOnnxValue.CreateFromTensor(names[i], new DenseTensor<int>(t.Values!.Select(v => (int)v).ToArray(), t.Dims.Select(d => (int)d).ToArray())),
            OnnxTensorFile.DoubleType => NamedOnnxValue.CreateFromTensor(names[i], new DenseTensor<double>(t.Values!.Select(v => (double)v).ToArray(), t.Dims.Select(d => (int)d).ToArray())),
            _ => NamedOnnxValue.CreateFromTensor(names[i], new DenseTensor<float>(t.Values!, t.Dims.Select(d => (int)d).ToArray())),
        }).ToList();
        using var results = session.Run(feeds);
        return results.Select(r => r.ElementType == TensorElementType.Double ? r.AsTensor<double>().Select(v => (float)v).ToArray() : r.AsTensor<float>().ToArray()).ToArray();
    }

    /// <summary>A consumer with the model and a harness that passes arrays as the generated Run's spans.</summary>
    private static string Consumer(int inputs, int outputs, string arguments)
    {
        string parameters = string.Join(", ", Enumerable.Range(0, inputs).Select(i => "float[] x" + i).Concat(Enumerable.Range(0, outputs).Select(o => "float[] y" + o)));
        string call = string.Join(", ", Enumerable.Range(0, inputs).Select(i => "x" + i).Concat(Enumerable.Range(0, outputs).Select(o => "y" + o)));
        return $$"""
            namespace Models
            {
                [global::Qtaml.TunnelingCompensated("Models/model.onnx"{{arguments}})]
                public static partial class Model { }

                public static class Harness
                {
                    public static void Run({{parameters}}) => Model.Run({{call}});
                }
            }
            """;
    }
}
