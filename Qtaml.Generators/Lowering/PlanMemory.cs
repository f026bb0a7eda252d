using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Model;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Lowering;

/// <summary>
/// Places every value: each graph input where the caller passed it, each output's value straight into the
/// caller's span for it, every other value a slice of one arena. A slice is freed after the last step that
/// reads it (through any reshape) and reused whole by a later value that fits, the smallest such slice first;
/// for a chain this finds two ping-pong buffers. An output no step writes (a graph input returned as it is) or
/// that another output already holds gets a copy step at the end. A part of a Concat written in place
/// (<see cref="ValueInfo.Within"/>) is its channels of the Concat's slice.
/// </summary>
internal static class PlanMemory
{
    /// <summary>The granule of the arena: a slice's floats are a multiple of it, so each starts on a 64-byte boundary.</summary>
    public const int SliceFloats = 16;

    public static KernelProgram Run(NetworkGraph graph, KernelProgram program)
    {
        var steps = program.Steps.ToList();
        var values = program.Values.ToList();
        var alias = program.Alias.ToList();
        var outputs = program.OutputValues.ToArray();
        var written = new HashSet<int>(steps.Select(s => s.Output));
        var claimed = new HashSet<int>();
        for (int k = 0; k < outputs.Length; k++)
        {
            int root = program.Root(outputs[k]);
            if (written.Contains(root) && claimed.Add(root)) continue;
            int copy = values.Count;
            values.Add(values[root]);
            alias.Add(copy);
            steps.Add(new Step("Copy_" + values[root].StoredLength, -1, Kernel.Copy, new EquatableArray<int>(new[] { root }), copy, FusedRelu: false));
            outputs[k] = copy;
        }
        program = program with
        {
            Steps = new EquatableArray<Step>(steps), Values = new EquatableArray<ValueInfo>(values),
            Alias = new EquatableArray<int>(alias), OutputValues = new EquatableArray<int>(outputs),
        };

        var lastUse = new int[values.Count];
        for (int i = 0; i < steps.Count; i++)
            foreach (int input in steps[i].Inputs) lastUse[program.Root(input)] = Math.Max(lastUse[program.Root(input)], i);
        // A value that parts are written inside (ConcatInPlace) is live from its first part's step until its last
        // reader, and at least until its last part is written.
        for (int i = 0; i < steps.Count; i++)
            if (values[steps[i].Output] is { IsView: true, Within: int whole }) lastUse[whole] = Math.Max(lastUse[whole], i);
        var outputPort = new Dictionary<int, int>();
        for (int k = 0; k < outputs.Length; k++) outputPort[program.Root(outputs[k])] = k;

        var placements = Enumerable.Repeat(new Placement(Buffer.Arena, -1), values.Count).ToArray();
        for (int k = 0; k < program.InputValues.Count; k++) placements[program.InputValues[k]] = new Placement(Buffer.Input, 0, k);
        var blocks = new List<(int Offset, int Size, int FreeAfter)>();
        int size = 0;
        for (int i = 0; i < steps.Count; i++)
        {
            int v = steps[i].Output;
            if (outputPort.TryGetValue(v, out int port))
            {
                placements[v] = new Placement(Buffer.Output, 0, port);
                continue;
            }
            if (values[v].IsView)
            {
                // Its channels inside the value it is part of, which the first part to be written places.
                int whole = values[v].Within;
                if (placements[whole].Offset < 0) Place(whole, i);
                placements[v] = new Placement(Buffer.Arena, placements[whole].Offset + values[v].ChannelOffset);
                continue;
            }
            Place(v, i);
        }
        return program with { Placements = new EquatableArray<Placement>(placements), ArenaFloats = size };

        void Place(int v, int i)
        {
            // Slices are whole cache lines (16 floats, 64 bytes) from the arena's aligned start, so every value starts on one.
            int length = (values[v].StoredLength + SliceFloats - 1) / SliceFloats * SliceFloats, best = -1;
            for (int b = 0; b < blocks.Count; b++)
                if (blocks[b].FreeAfter < i && blocks[b].Size >= length && (best < 0 || blocks[b].Size < blocks[best].Size)) best = b;
            if (best < 0)
            {
                blocks.Add((size, length, lastUse[v]));
                placements[v] = new Placement(Buffer.Arena, size);
                size += length;
            }
            else
            {
                placements[v] = new Placement(Buffer.Arena, blocks[best].Offset);
                blocks[best] = (blocks[best].Offset, blocks[best].Size, lastUse[v]);
            }
        }
    }
}
