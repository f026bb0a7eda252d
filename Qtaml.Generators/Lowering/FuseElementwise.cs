using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Model;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Lowering;

/// <summary>
/// Consecutive element-wise steps over values of one stored form become one step that reads its inputs once and
/// writes its result once, the values between them held in registers: exporters spell activations and learnable
/// scalars as chains of Mul, Add, Clip and Div (PP-LCNetV3's hardswish and affine blocks are eight steps after each
/// convolution; they were a quarter of PP-OCRv4's recogniser time, each a pass over memory). A step joins a chain
/// when it reads the chain's last result, its operands are whole values of the same stored form or scalar
/// constants, and its operator has a vector form (<see cref="Fusable"/>); a value inside a chain must be read by
/// nothing outside it. The fused step computes the same operations in the same order, so the same bits.
/// </summary>
internal static class FuseElementwise
{
    /// <summary>The most distinct values a fused step reads (its helper's span parameters).</summary>
    private const int MaxInputs = 3;

    public static KernelProgram Run(NetworkGraph graph, KernelProgram program)
    {
        Step[] steps = program.Steps.ToArray();
        // Who reads each value: steps by index, and a reshape (alias) or a graph output counts as a reader outside any chain.
        var readers = new List<int>[program.Values.Count];
        for (int v = 0; v < readers.Length; v++) readers[v] = new List<int>();
        for (int i = 0; i < steps.Length; i++)
            foreach (int input in steps[i].Inputs.Distinct()) readers[input].Add(i);
        var escapes = new bool[program.Values.Count];
        for (int v = 0; v < program.Alias.Count; v++)
            if (program.Alias[v] != v) escapes[program.Alias[v]] = true;
        foreach (int output in program.OutputValues) escapes[output] = true;

        var result = new List<Step>();
        int at = 0;
        while (at < steps.Length)
        {
            // The longest run of connected fusable steps from here, then its longest prefix whose inner values stay inside.
            int end = at + 1;
            if (Fusable(graph, program, steps[at]))
                // A fusable step's inputs have its output's stored form, so a step reading the one before has the chain's.
                while (end < steps.Length && Fusable(graph, program, steps[end]) && steps[end].Inputs.Contains(steps[end - 1].Output))
                    end++;
            int length = end - at;
            while (length >= 2 && !Closed(steps, at, length, readers, escapes)) length--;
            List<int>? inputs = length >= 2 ? ExternalInputs(steps, at, length) : null;
            if (inputs is null || inputs.Count > MaxInputs)
            {
                result.Add(steps[at]);
                at++;
                continue;
            }
            Step last = steps[at + length - 1];
            result.Add(last with
            {
                Method = steps[at].Method + "_Fused",
                Inputs = new EquatableArray<int>(inputs),
                FusedRelu = false,
                Chain = new EquatableArray<Step>(steps.Skip(at).Take(length)),
            });
            at += length;
        }
        return program with { Steps = new EquatableArray<Step>(result) };
    }

    /// <summary>
    /// Whether a step can be part of a chain: a ReLU, a Clip, HardSigmoid or HardSwish, or + − × ÷ max min of two
    /// operands that are each a whole value of the output's stored form or one constant; unguarded.
    /// </summary>
    public static bool Fusable(NetworkGraph graph, KernelProgram program, Step step)
    {
        if (step.IsGuarded || step.IsConversion || step.Kernel == Kernel.Copy || step.Chain.Count > 0) return false;
        ValueInfo output = program.Values[step.Output];
        bool SameForm(int value) => program.Values[value].StoredLength == output.StoredLength && program.Values[value].Layout == output.Layout && program.Values[value].ChannelSlots == output.ChannelSlots;
        switch (graph.Layers[step.Layer])
        {
            case ReluLayer:
                return SameForm(step.Inputs[0]);
            case UnaryLayer u when u.Kind is UnaryKind.Clip or UnaryKind.HardSigmoid or UnaryKind.HardSwish:
                return SameForm(step.Inputs[0]);
            case BinaryLayer b when b.Kind is BinaryKind.Add or BinaryKind.Sub or BinaryKind.Mul or BinaryKind.Div or BinaryKind.Max or BinaryKind.Min:
            {
                bool Operand(Operand o) => o.IsConstant ? o.Length == 1 : Shape.Length(o.Shape) == Shape.Length(b.OutputShape);
                return Operand(b.Left) && Operand(b.Right) && !(b.Left.IsConstant && b.Right.IsConstant) && step.Inputs.All(SameForm);
            }
            default:
                return false;
        }
    }

    /// <summary>Whether every value the chain's steps write before its last is read only by the chain's later steps.</summary>
    private static bool Closed(Step[] steps, int at, int length, List<int>[] readers, bool[] escapes)
    {
        for (int i = at; i < at + length - 1; i++)
        {
            int value = steps[i].Output;
            if (escapes[value] || readers[value].Any(r => r <= i || r >= at + length)) return false;
        }
        return true;
    }

    /// <summary>The values the chain reads that none of its steps writes, in the order first read.</summary>
    private static List<int> ExternalInputs(Step[] steps, int at, int length)
    {
        var written = new HashSet<int>();
        var inputs = new List<int>();
        for (int i = at; i < at + length; i++)
        {
            foreach (int input in steps[i].Inputs)
                if (!written.Contains(input) && !inputs.Contains(input)) inputs.Add(input);
            written.Add(steps[i].Output);
        }
        return inputs;
    }
}
