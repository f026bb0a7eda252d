using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Qtaml.Generators.Tests.Support;

/// <summary>Microsoft.ML.OnnxRuntime on the same file: the reference every generated model is compared with.</summary>
internal sealed class OnnxRuntimeReference : IDisposable
{
    private readonly InferenceSession _session;
    private readonly int[] _inputDims;

    public OnnxRuntimeReference(byte[] model, long[] inputShape)
    {
        _session = new InferenceSession(model);
        _inputDims = inputShape.Select(d => (int)d).ToArray();
    }

    public float[] Run(float[] input)
    {
        var tensor = new DenseTensor<float>(input, _inputDims);
        using var results = _session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", tensor) });
        return results[0].AsTensor<float>().ToArray();
    }

    public void Dispose() => _session.Dispose();
}
