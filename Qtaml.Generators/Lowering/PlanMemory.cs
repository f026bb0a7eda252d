using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Model;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Lowering;

/// <summary>
/// Places every value: the input where the caller passed it, the output's value straight into the caller's
/// output span, every other value a slice of one arena. A slice is freed after the last step that reads it
/// (through any reshape) and reused whole by a later value that fits, the smallest such slice first; for a
/// chain this finds two ping-pong buffers.
/// </summary>
internal static class PlanMemory
{
    public static KernelProgram Run(NetworkGraph graph, KernelProgram program)
    {
        int values = program.Values.Count;
        var lastUse = new int[values];
        for (int i = 0; i < program.Steps.Count; i++)
            foreach (int input in program.Steps[i].Inputs) lastUse[program.Root(input)] = Math.Max(lastUse[program.Root(input)], i);
        int outputRoot = program.Root(program.OutputValue);

        var placements = Enumerable.Repeat(new Placement(Buffer.Arena, -1), values).ToArray();
        placements[0] = new Placement(Buffer.Input, 0);
        var blocks = new List<(int Offset, int Size, int FreeAfter)>();
        int size = 0;
        for (int i = 0; i < program.Steps.Count; i++)
        {
            int v = program.Steps[i].Output;
            if (v == outputRoot)
            {
                placements[v] = new Placement(Buffer.Output, 0);
                continue;
            }
            int length = program.Values[v].StoredLength, best = -1;
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
        return program with { Placements = new EquatableArray<Placement>(placements), ArenaFloats = size };
    }
}
