using System.Collections.Generic;

namespace Qtaml.Tac;

/// <summary>
/// What mean correction stores for a layer and how the layer reads it back:
/// ŵ = s · <see cref="ScaleFactor"/> · (q~ + <see cref="CodeOffset"/>), where s is the quantization scale.
/// </summary>
public sealed class CorrectedLayer
{
    private readonly int[] _storedCodes;

    internal CorrectedLayer(int[] storedCodes, double scaleFactor, double codeOffset, double worstCaseResidual)
    {
        _storedCodes = storedCodes;
        ScaleFactor = scaleFactor;
        CodeOffset = codeOffset;
        WorstCaseResidual = worstCaseResidual;
    }

    /// <summary>The codes to write into memory, one per weight, in the layer's order.</summary>
    public IReadOnlyList<int> StoredCodes => _storedCodes;

    /// <summary>The factor on the quantization scale: 1/(1 − p10 − p01) without protection, 1 otherwise.</summary>
    public double ScaleFactor { get; }

    /// <summary>Added to each read code before scaling: p01 without protection, 0 otherwise.</summary>
    public double CodeOffset { get; }

    /// <summary>The bound on |E[ŵ]/s − q| the correction guarantees, in codes.</summary>
    public double WorstCaseResidual { get; }

    /// <summary>The weight the layer computes with for a read code.</summary>
    public double Dequantize(int readCode, double scale) => scale * ScaleFactor * (readCode + CodeOffset);

    /// <summary>A copy of the stored codes.</summary>
    public int[] ToArray() => (int[])_storedCodes.Clone();
}
