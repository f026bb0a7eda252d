using System;
using Qtaml.Faults;

namespace Qtaml;

/// <summary>
/// What the generator emits for a class marked <see cref="TunnelingCompensatedAttribute"/>: static,
/// allocation-free inference over baked weights, and the same code over a <see cref="WeightImage"/> so a
/// fault campaign can run it on faulted weights. Static abstract, so tools can be generic over models:
/// <c>Accuracy&lt;Digits&gt;(...)</c>.
/// </summary>
public interface ICompiledModel
{
    /// <summary>The number of input values (the product of the input shape, batch 1).</summary>
    static abstract int InputLength { get; }

    /// <summary>The number of output values.</summary>
    static abstract int OutputLength { get; }

    /// <summary>What was compiled, for which node, with which protection.</summary>
    static abstract ModelInfo Info { get; }

    /// <summary>Runs the network over the baked weights.</summary>
    static abstract void Run(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Runs the network over the weights held in <paramref name="weights"/> (possibly faulted).</summary>
    static abstract void Run(WeightImage weights, ReadOnlySpan<float> input, Span<float> output);

    /// <summary>
    /// Runs the network over the baked weights with its large layers split across the threads of
    /// <paramref name="workers"/>: the same outputs, bit for bit, as <see cref="Run(ReadOnlySpan{float}, Span{float})"/>.
    /// </summary>
    static abstract void Run(ReadOnlySpan<float> input, Span<float> output, Threading.WorkerPool workers);

    /// <summary>Runs the network over <paramref name="weights"/> with its large layers split across the threads of <paramref name="workers"/>.</summary>
    static abstract void Run(WeightImage weights, ReadOnlySpan<float> input, Span<float> output, Threading.WorkerPool workers);

    /// <summary>A mutable copy of the stored weight bits, laid out as <see cref="Run(WeightImage, ReadOnlySpan{float}, Span{float})"/> reads them.</summary>
    static abstract WeightImage CreateWeightImage();

    /// <summary>
    /// The weights as quantization left them, before protection: the runtime designs the image of any plan
    /// (allocator, budget, flip model) from it, and <see cref="Run(WeightImage, ReadOnlySpan{float}, Span{float})"/> runs it.
    /// </summary>
    static abstract Plans.QuantizedModel Quantized { get; }
}
