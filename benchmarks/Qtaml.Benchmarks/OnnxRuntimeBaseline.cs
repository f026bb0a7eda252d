using Microsoft.ML.OnnxRuntime;

namespace Qtaml.Benchmarks;

/// <summary>
/// ONNX Runtime the way a careful user calls it at batch 1: one session on one intra-op thread (or as many as the
/// generated code is given) with every graph
/// optimization, created once, and the input and output tensors bound to the caller's reused buffers, so a call
/// measures the run and nothing the caller could have hoisted out of it.
/// </summary>
internal sealed class OnnxRuntimeBaseline : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue _input, _output;
    private readonly OrtValue[] _inputs, _outputs;
    private readonly string[] _inputNames, _outputNames;

    /// <param name="threads">Intra-op threads (1: the caller's alone, the default every single-threaded comparison uses).</param>
    public OnnxRuntimeBaseline(string path, float[] input, long[] inputShape, float[] output, long[] outputShape, int threads = 1)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(path, options);
        _input = OrtValue.CreateTensorValueFromMemory(input, inputShape);
        _output = OrtValue.CreateTensorValueFromMemory(output, outputShape);
        _inputs = new[] { _input };
        _outputs = new[] { _output };
        _inputNames = new[] { _session.InputMetadata.Keys.First() };
        _outputNames = new[] { _session.OutputMetadata.Keys.First() };
    }

    /// <summary>One inference from the bound input buffer into the bound output buffer.</summary>
    public void Run() => _session.Run(_runOptions, _inputNames, _inputs, _outputNames, _outputs);

    public void Dispose()
    {
        _input.Dispose();
        _output.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
