using System;

namespace Qtaml;

/// <summary>
/// How a model's output is read as decisions: its first <see cref="Positions"/>·<see cref="Classes"/> values are
/// <see cref="Positions"/> runs of <see cref="Classes"/> scores, and each run's largest score is one decision. A
/// classifier makes one decision over its whole output; a network whose final softmax runs over the last axis of
/// several rows (a CTC text recogniser's [1, T, classes], decoded greedily) makes one per row, and one arg max over
/// all T·classes scores at once is a decision no application makes. The build forecasts, and a campaign measures,
/// the share of these decisions kept.
/// </summary>
/// <param name="Positions">The decisions per input (at least 1).</param>
/// <param name="Classes">The scores each decision chooses among, consecutive in the output (at least 1).</param>
public sealed record DecisionLayout(int Positions, int Classes)
{
    /// <summary>The output values the decisions read.</summary>
    public int Length => checked(Positions * Classes);

    /// <summary>One decision over a whole output of <paramref name="outputLength"/> values.</summary>
    public static DecisionLayout Whole(int outputLength) => new(1, outputLength);

    /// <summary>Writes each position's decision: the index, within its run, of the largest score (the first of equals; a NaN never wins).</summary>
    /// <exception cref="ArgumentException">The output is shorter than the layout, or the span for decisions is not <see cref="Positions"/> long.</exception>
    public void Decide(ReadOnlySpan<float> output, Span<int> decisions)
    {
        if (Positions < 1 || Classes < 1) throw new InvalidOperationException($"A decision layout has at least one position of at least one class; this one has {Positions} of {Classes}.");
        if (output.Length < Length) throw new ArgumentException($"The output holds {output.Length} values; {Positions} decisions of {Classes} classes read {Length}.", nameof(output));
        if (decisions.Length != Positions) throw new ArgumentException($"Give room for {Positions} decisions; the span holds {decisions.Length}.", nameof(decisions));
        for (int p = 0; p < Positions; p++) decisions[p] = Plans.PlanCampaign.Decision(output.Slice(p * Classes, Classes));
    }

    /// <summary>Each position's decision (see <see cref="Decide(ReadOnlySpan{float}, Span{int})"/>).</summary>
    public int[] Decide(ReadOnlySpan<float> output)
    {
        var decisions = new int[Positions];
        Decide(output, decisions);
        return decisions;
    }

    /// <inheritdoc />
    public override string ToString() => Positions == 1 ? "one decision among " + Classes + " classes" : Positions + " decisions per input, each among " + Classes + " classes";
}
