using System;
using System.Collections.Generic;

namespace Qtaml.Tac;

/// <summary>
/// A layer's mean correction as a map: for each code the layer holds, the code stored in its place, and how the layer
/// dequantizes. A correction depends only on the code, never on where it sits, so this is the whole of it; applied to
/// the layer's codes in any order it gives that order's stored codes.
/// </summary>
public sealed class CorrectedCodes
{
    private readonly CodeHistogram _histogram;
    private readonly int[] _stored;

    internal CorrectedCodes(CodeHistogram histogram, int[] stored, double scaleFactor, double codeOffset, double worstCaseResidual)
    {
        _histogram = histogram;
        _stored = stored;
        ScaleFactor = scaleFactor;
        CodeOffset = codeOffset;
        WorstCaseResidual = worstCaseResidual;
        double sum = 0;
        for (int v = 0; v < stored.Length; v++)
        {
            double shift = scaleFactor * (stored[v] + codeOffset) - histogram.Values[v];
            sum += histogram.Counts[v] * shift * shift;
        }
        FreshShiftSquared = histogram.Total == 0 ? 0 : sum / histogram.Total;
    }

    /// <summary>The factor on the quantization scale (see <see cref="CorrectedLayer.ScaleFactor"/>).</summary>
    public double ScaleFactor { get; }

    /// <summary>Added to each read code before scaling (see <see cref="CorrectedLayer.CodeOffset"/>).</summary>
    public double CodeOffset { get; }

    /// <summary>The bound on |E[ŵ]/s − q| the correction guarantees, in codes.</summary>
    public double WorstCaseResidual { get; }

    /// <summary>The mean over the layer of (ŵ/s − q)² read before any flip: how far the correction moved the codes.</summary>
    public double FreshShiftSquared { get; }

    /// <summary>The code stored for the intended code <paramref name="intended"/> (one the layer holds).</summary>
    public int StoredFor(int intended)
    {
        int index = _histogram.IndexOf(intended);
        if (index < 0) throw new ArgumentOutOfRangeException(nameof(intended), intended, "The layer holds no weight with this code.");
        return _stored[index];
    }

    /// <summary>The stored codes of a layer whose intended codes are <paramref name="intendedCodes"/> (in any order), with this dequantization.</summary>
    public CorrectedLayer For(IReadOnlyList<int> intendedCodes)
    {
        if (intendedCodes is null) throw new ArgumentNullException(nameof(intendedCodes));
        var stored = new int[intendedCodes.Count];
        for (int i = 0; i < stored.Length; i++) stored[i] = StoredFor(intendedCodes[i]);
        return new CorrectedLayer(stored, ScaleFactor, CodeOffset, WorstCaseResidual);
    }
}
