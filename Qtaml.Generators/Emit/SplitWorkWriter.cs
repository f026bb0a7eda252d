using System.Linq;
using Qtaml.Generators.Emit.Kernels;
using Qtaml.Generators.Lowering;

namespace Qtaml.Generators.Emit;

/// <summary>
/// Writes <c>SplitWork</c>, the class through which a run given a <c>Qtaml.Threading.WorkerPool</c> hands the steps
/// that split (<see cref="SplitLayers"/>) to the pool's threads: one instance per calling thread, made on its first
/// such run with its own arena (a worker cannot read the caller's stack), so a run allocates nothing. A quantized
/// step has every thread convert its share of the codes (<c>Decode</c>), stages its input
/// on the calling thread, then <c>Run(step, table, staged)</c> has every thread call the step's <c>_Multiply</c> for its
/// part of the output. A step whose kernel converts its codes a pass at a time (panels of a convolution table) skips
/// the whole table: <c>RunDecoding</c> has each part convert its own passes' codes into its thread's weight table
/// (ResNet-50's 8-bit build on two threads wrote and read back a 9.4 MB table per layer; 35.4 -> 32.0 ms).
/// </summary>
internal static class SplitWorkWriter
{
    public const string ClassName = "SplitWork";

    public static bool Splits(KernelProgram program) => program.Steps.Any(s => s.Splits);

    /// <param name="decode">For a quantized build, the call that converts a step's share of its codes into <c>_table</c>.</param>
    /// <param name="passDecoding">Whether a step's <c>_Multiply</c> takes codes to convert by pass (each part its own passes, <c>RunDecoding</c>).</param>
    /// <param name="codes">For a quantized build, a step's codes in <c>Codes</c>, for the steps that convert them by pass.</param>
    public static void Write(SourceWriter w, KernelProgram program, bool quantized, System.Func<Step, string> decode, System.Func<Step, bool> passDecoding, System.Func<Step, string> codes)
    {
        if (!Splits(program)) return;
        w.Line("/// <summary>The steps that split across a WorkerPool's threads, run by part: one per calling thread, with its own arena.</summary>");
        using (w.Block("private sealed class " + ClassName + " : global::Qtaml.Threading.WorkItem"))
        {
            w.Line("public global::Qtaml.Threading.WorkerPool Workers = null!;");
            w.Line();
            w.Line("/// <summary>Parts per thread: the threads take parts as they come free, so one that starts late (a worker waking) takes fewer.</summary>");
            w.Line("private const int PartsPerThread = 4;");
            w.Line();
            w.Line("/// <summary>The arena of a run on the pool: on the heap, where the workers can reach it, from its 64-byte boundary at <see cref=\"At\"/>.</summary>");
            w.Line("public readonly float[] Arena = global::Qtaml.Numerics.AlignedArrays.Allocate<float>(" + program.ArenaFloats + ");");
            w.Line();
            w.Line("/// <summary>The index in <see cref=\"Arena\"/> of the arena's first float.</summary>");
            w.Line("public readonly int At;");
            w.Line();
            w.Line("public " + ClassName + "() => At = global::Qtaml.Numerics.AlignedArrays.Start(Arena);");
            w.Line();
            w.Line("/// <summary>The arena as Forward slices it.</summary>");
            w.Line("public Span<float> ArenaSpan => Arena.AsSpan(At, " + program.ArenaFloats + ");");
            w.Line();
            if (quantized)
            {
                w.Line("/// <summary>The weight image of the run: the baked codes, or a WeightImage's.</summary>");
                w.Line("public ReadOnlyMemory<byte> Codes;");
                w.Line();
            }
            w.Line("private int _step;");
            w.Line("private float[]? _table;");
            w.Line("private float[]? _staged;");
            // Steps that convert their whole table first (every thread its share), and steps whose parts convert their own passes.
            bool decodesWhole = quantized && program.Steps.Any(s => s.Splits && !passDecoding(s));
            bool decodesByPass = quantized && program.Steps.Any(s => s.Splits && passDecoding(s));
            if (quantized) w.Line("private float _scaleFactor, _codeOffset;");
            if (decodesWhole)
            {
                w.Line("private bool _decoding;");
                w.Line();
                w.Line("/// <summary>Converts the codes of step <paramref name=\"step\"/> (its layer) into <paramref name=\"table\"/> on every thread of the pool, each its share.</summary>");
                using (w.Block("public void Decode(int step, float scaleFactor, float codeOffset, float[]? table)"))
                {
                    w.Line("_step = step;");
                    w.Line("_table = table;");
                    w.Line("(_scaleFactor, _codeOffset) = (scaleFactor, codeOffset);");
                    w.Line("_decoding = true;");
                    w.Line("Workers.Run(this, PartsPerThread * Workers.Threads);");
                    w.Line("_decoding = false;");
                    w.Line("_table = null;");
                }
            }
            if (decodesByPass)
            {
                w.Line();
                w.Line("/// <summary>");
                w.Line("/// Runs step <paramref name=\"step\"/> (its layer) on every thread of the pool, each part converting the codes of its own");
                w.Line("/// passes into its thread's weight table just before it multiplies: no thread converts or reads the whole table.");
                w.Line("/// </summary>");
                using (w.Block("public void RunDecoding(int step, float scaleFactor, float codeOffset, float[]? staged)"))
                {
                    w.Line("_step = step;");
                    w.Line("(_scaleFactor, _codeOffset) = (scaleFactor, codeOffset);");
                    w.Line("_staged = staged;");
                    w.Line("Workers.Run(this, PartsPerThread * Workers.Threads);");
                    w.Line("_staged = null;");
                }
            }
            w.Line();
            w.Line("/// <summary>Runs the multiply-adds of step <paramref name=\"step\"/> (its layer) on every thread of the pool, over the weight table and staged input the calling thread prepared (null: the layer's baked table, or its input in the arena).</summary>");
            using (w.Block("public void Run(int step, float[]? table, float[]? staged)"))
            {
                w.Line("_step = step;");
                w.Line("_table = table;");
                w.Line("_staged = staged;");
                w.Line("Workers.Run(this, PartsPerThread * Workers.Threads);");
                w.Line("_table = null;");
                w.Line("_staged = null;");
            }
            w.Line();
            w.Line("/// <summary>Part <paramref name=\"part\"/> of the step's conversion of codes or multiply-adds.</summary>");
            using (w.Block("protected override void Run(int part, int parts)"))
            using (w.Block("switch (_step)"))
            {
                foreach (Step step in program.Steps.Where(s => s.Splits))
                {
                    Placement input = program.Placements[program.Root(step.Inputs[0])], output = program.Placements[program.Root(step.Output)];
                    // A pass-decoding step's part converts its passes' codes into this thread's own weight table; the
                    // other steps read the buffers the calling thread filled, each from its aligned start (KernelContext.Aligned).
                    bool byPass = passDecoding(step);
                    string weights = byPass ? "ref MemoryMarshal.GetReference(table)" : quantized ? KernelContext.AlignedStart("_table!") : "ref MemoryMarshal.GetReference(" + step.Method + "_Table)";
                    // An input outside the arena is always staged (ConvKernels.Stage), so _staged is then never null.
                    string pixels = input.Buffer == Buffer.Arena ? "ref (_staged is null ? ref Arena[At + " + input.Offset + "] : " + KernelContext.AlignedStart("_staged") + ")" : KernelContext.AlignedStart("_staged!");
                    // A residual Add folded in reads its second input from the arena (FuseResidualAdds keeps it there).
                    string residual = step.FusedAdd ? ", ref Arena[At + " + program.Placements[program.Root(step.Inputs[1])].Offset + "]" : "";
                    string multiply = step.Method + "_Multiply(" + (byPass ? codes(step) + ", _scaleFactor, _codeOffset, table, " : "") + weights + ", " + pixels + ", ref Arena[At + " + output.Offset + "]" + residual + ", part, parts);";
                    w.Line("case " + step.Layer + ":");
                    if (byPass)
                    {
                        w.Line("{");
                        w.Line("    Span<float> table = " + KernelContext.Aligned(KernelContext.WeightTableName, KernelContext.WeightTableLengthName) + ";");
                        w.Line("    " + multiply);
                        w.Line("    break;");
                        w.Line("}");
                        continue;
                    }
                    if (quantized)
                    {
                        w.Line("    if (_decoding) " + decode(step) + ";");
                        w.Line("    else " + multiply);
                    }
                    else
                        w.Line("    " + multiply);
                    w.Line("    break;");
                }
                w.Line("default:");
                w.Line("    throw new InvalidOperationException(\"No step \" + _step + \" splits.\");");
            }
        }
        w.Line();
        w.Line("[ThreadStatic] private static " + ClassName + "? s_split;");
        w.Line();
    }
}
