using System;
using System.Collections.Generic;
using System.Linq;

namespace Qtaml.Generators.Lowering;

/// <summary>
/// Checks a placed <see cref="KernelProgram"/> before anything is printed from it, in the spirit of onnx2c's arena
/// validation: every value a step reads was written before (or is a graph input), every value is written once and
/// inputs never, outputs land in the caller's span for their port, arena slices are in bounds, and no two values
/// that are live at the same step share a float of the arena. A violation is a bug of the passes: the build stops
/// with QTAML018 rather than ship code that reads a value another step overwrote.
/// </summary>
internal static class ProgramVerifier
{
    /// <exception cref="InvalidOperationException">The program breaks one of the rules; the message names the step and values.</exception>
    public static void Verify(KernelProgram program)
    {
        int values = program.Values.Count;
        if (program.Alias.Count != values || program.Placements.Count != values)
            throw Broken($"{values} values but {program.Alias.Count} aliases and {program.Placements.Count} placements");

        var definedAt = Enumerable.Repeat(-1, values).ToArray();
        var isInput = new HashSet<int>(program.InputValues);
        var lastRead = Enumerable.Repeat(-1, values).ToArray();
        // A value its parts are written inside (ConcatInPlace) is written by no step of its own: it is defined once
        // its last part is written, and takes its arena slice from its first part's step.
        var partsLeft = new int[values];
        var firstPart = Enumerable.Repeat(-1, values).ToArray();
        for (int v = 0; v < values; v++)
            if (program.Values[v].IsView) partsLeft[program.Values[v].Within]++;
        for (int i = 0; i < program.Steps.Count; i++)
        {
            Step step = program.Steps[i];
            foreach (int read in step.Inputs.Append(step.GuardValue).Where(v => v >= 0))
            {
                int root = program.Root(read);
                if (!isInput.Contains(root) && (definedAt[root] < 0 || definedAt[root] >= i))
                    throw Broken($"step {i} ({step.Method}) reads value {root} before any step writes it");
                lastRead[root] = i;
            }
            int output = program.Root(step.Output);
            if (isInput.Contains(output)) throw Broken($"step {i} ({step.Method}) writes graph input value {output}");
            if (definedAt[output] >= 0) throw Broken($"value {output} is written by step {definedAt[output]} and again by step {i} ({step.Method})");
            // A split step's parts write from other threads, which reach only the arena (SplitLayers).
            if (step.Splits && program.Placements[output].Buffer != Buffer.Arena) throw Broken($"step {i} ({step.Method}) splits across threads but writes {program.Placements[output].Buffer}, not the arena");
            definedAt[output] = i;
            if (program.Values[output].IsView)
            {
                int whole = program.Values[output].Within;
                if (definedAt[whole] >= 0) throw Broken($"step {i} ({step.Method}) writes a part of value {whole}, which was already whole");
                if (firstPart[whole] < 0) firstPart[whole] = i;
                if (--partsLeft[whole] == 0) definedAt[whole] = i;
            }
        }

        for (int port = 0; port < program.OutputValues.Count; port++)
        {
            int root = program.Root(program.OutputValues[port]);
            if (definedAt[root] < 0) throw Broken($"output {port} (value {root}) is written by no step");
            Placement place = program.Placements[root];
            if (place.Buffer != Buffer.Output || place.Port != port) throw Broken($"output {port} (value {root}) is placed in {place.Buffer} {place.Port}, not in its output span");
        }

        // Arena values: in bounds, and disjoint from every other value live at the same step (a step's output is
        // live with its inputs: no kernel writes over what it reads).
        var arena = new List<(int Value, int Start, int End, int Offset, int Length)>();
        for (int v = 0; v < values; v++)
        {
            if (definedAt[v] < 0 || program.Alias[v] != v) continue;
            Placement place = program.Placements[v];
            ValueInfo info = program.Values[v];
            if (info.IsView)
            {
                // A part lies inside its whole, from its first channel to the whole's end; the whole's slice is checked.
                Placement whole = program.Placements[info.Within];
                if (place.Buffer != whole.Buffer || place.Offset != whole.Offset + info.ChannelOffset || info.StoredLength != program.Values[info.Within].StoredLength - info.ChannelOffset)
                    throw Broken($"value {v}, channels from {info.ChannelOffset} of value {info.Within}, is not placed inside it");
                continue;
            }
            if (place.Buffer != Buffer.Arena) continue;
            int length = info.StoredLength;
            if (place.Offset < 0 || (long)place.Offset + length > program.ArenaFloats)
                throw Broken($"value {v} at arena [{place.Offset}, {(long)place.Offset + length}) is outside the arena of {program.ArenaFloats} floats");
            int start = firstPart[v] >= 0 ? firstPart[v] : definedAt[v];
            arena.Add((v, start, Math.Max(definedAt[v], lastRead[v]), place.Offset, length));
        }
        var starting = arena.ToLookup(a => a.Start);
        var live = new List<(int Value, int Start, int End, int Offset, int Length)>();
        for (int i = 0; i < program.Steps.Count; i++)
        {
            live.RemoveAll(a => a.End < i);
            live.AddRange(starting[i]);
            var byOffset = live.OrderBy(a => a.Offset).ToList();
            for (int k = 1; k < byOffset.Count; k++)
                if (byOffset[k].Offset < byOffset[k - 1].Offset + byOffset[k - 1].Length)
                    throw Broken($"at step {i} ({program.Steps[i].Method}) values {byOffset[k - 1].Value} and {byOffset[k].Value} are both live and overlap in the arena "
                        + $"([{byOffset[k - 1].Offset}, {byOffset[k - 1].Offset + byOffset[k - 1].Length}) and [{byOffset[k].Offset}, {byOffset[k].Offset + byOffset[k].Length}))");
        }
    }

    private static InvalidOperationException Broken(string what) => new("The kernel program is inconsistent: " + what + ".");
}
