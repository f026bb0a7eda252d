using System;
using Qtaml.Faults;

namespace Qtaml.Plans;

/// <summary>
/// A compiled model class seen through delegates, so a campaign can hold classes of one model compiled in different
/// encodings side by side (code generic over <see cref="ICompiledModel"/> cannot keep them in one list).
/// </summary>
public sealed class CompiledVariant
{
    private CompiledVariant(ModelInfo info, QuantizedModel quantized, RunOverImage run, int inputLength, int outputLength)
    {
        Info = info;
        Quantized = quantized;
        Run = run;
        InputLength = inputLength;
        OutputLength = outputLength;
    }

    /// <summary>Runs the class over a weight image.</summary>
    public delegate void RunOverImage(WeightImage weights, ReadOnlySpan<float> input, Span<float> output);

    /// <summary>What the class was compiled from and for.</summary>
    public ModelInfo Info { get; }

    /// <summary>The class's quantized model, from which plan images are made.</summary>
    public QuantizedModel Quantized { get; }

    /// <summary>The class's <c>Run(image, input, output)</c>.</summary>
    public RunOverImage Run { get; }

    /// <summary>The number of input values.</summary>
    public int InputLength { get; }

    /// <summary>The number of output values.</summary>
    public int OutputLength { get; }

    /// <summary>How the output is read as decisions: the build's layout (<see cref="ModelInfo.Decisions"/>), else one over the whole output.</summary>
    public DecisionLayout Decisions => Info.Decisions ?? DecisionLayout.Whole(OutputLength);

    /// <summary>The variant of a compiled class (the generated class itself, or a static model's nested <c>Compiled</c>).</summary>
    public static CompiledVariant Of<TModel>() where TModel : ICompiledModel =>
        new(TModel.Info, TModel.Quantized, TModel.Run, TModel.InputLength, TModel.OutputLength);
}
