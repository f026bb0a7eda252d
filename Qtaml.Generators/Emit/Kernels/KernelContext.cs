using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Qtaml.Generators.Lowering;
using Qtaml.Generators.Network;
using Qtaml.Generators.Planning;

namespace Qtaml.Generators.Emit.Kernels;

/// <summary>What a kernel writer knows about the model: the plan (bits, quantized layers) and the program (layouts).</summary>
internal sealed class KernelContext
{
    private readonly Dictionary<WeightLayer, QuantizedLayer> _quantized;

    public KernelContext(ModelPlan plan, KernelProgram program, ConstantData data)
    {
        Data = data;
        Plan = plan;
        Program = program;
        _quantized = plan.Layers.ToDictionary(q => q.Layer);
    }

    public ModelPlan Plan { get; }

    /// <summary>The class's data section: where kernels put their weight tables and constant arrays (<see cref="ConstantData.FloatSpan"/>).</summary>
    public ConstantData Data { get; }
    public KernelProgram Program { get; }
    public bool IsQuantized => Plan.IsQuantized;
    public int Bits => Plan.Bits;

    /// <summary>Activations up to this many floats live on the stack; larger ones in per-thread buffers.</summary>
    public const int StackFloats = 32 * 1024;

    public QuantizedLayer Quantized(WeightLayer layer) => _quantized[layer];

    /// <summary>The kernels of equal text, written once per class (<see cref="SharedKernels"/>).</summary>
    public SharedKernels Kernels { get; } = new();

    /// <summary>The helpers steps of a form call with their own sizes and constants (<see cref="SharedHelpers"/>).</summary>
    public SharedHelpers Helpers { get; } = new();

    /// <summary>
    /// The steps a shared helper computes, with the text of their call given the step's input spans and output
    /// (<see cref="ElementwiseKernels.SharedCall"/>): they have no kernel method of their own.
    /// </summary>
    public Dictionary<Step, Func<IReadOnlyList<string>, string, string>> SharedCalls { get; } = new();

    public ValueInfo Value(int value) => Program.Values[Program.Root(value)];

    /// <summary>
    /// What a quantized kernel takes after its codes: the layer's dequantization, read from the weight image at run
    /// time (ŵ = s_c · scaleFactor · (q~ + codeOffset)), so one compiled kernel runs the image of any plan.
    /// </summary>
    public const string DequantizationParameters = "float scaleFactor, float codeOffset";

    /// <summary>The declaration of <c>q</c>, the layer's codes as signed integers of the stored width (b &lt; 8: bytes to sign-extend).</summary>
    public string CodeSpan() => Bits switch
    {
        8 => "ReadOnlySpan<sbyte> q = MemoryMarshal.Cast<byte, sbyte>(w);",
        16 => "ReadOnlySpan<short> q = MemoryMarshal.Cast<byte, short>(w);",
        < 8 => "ReadOnlySpan<byte> q = w;",
        _ => "ReadOnlySpan<ushort> q = MemoryMarshal.Cast<byte, ushort>(w);",
    };

    /// <summary>Whether the codes are sign-magnitude patterns, decoded after the sign extension (CodeDecoding).</summary>
    private bool SignMagnitude => Plan.Encoding == Moments.CodeEncoding.SignMagnitude;

    /// <summary>2^{b−1}: what a sign-magnitude pattern read as two's complement is offset by when negative.</summary>
    private string Top => (1 << (Bits - 1)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The expression that reads code i of <c>q</c> as an int: sign-extended from b bits, then decoded if sign-magnitude.</summary>
    public string CodeRead(string index) => SignMagnitude ? "CodeDecoding.SignMagnitude(" + TwosRead(index) + ", " + Top + ")" : TwosRead(index);

    private string TwosRead(string index)
    {
        if (Bits is 8 or 16) return "q[" + index + "]";   // sbyte or short spans: already signed
        int shift = (Bits <= 8 ? 8 : 16) - Bits;
        // The narrowing cast wraps on purpose (it moves the code's sign bit to the top); unchecked, so a consumer
        // that builds with CheckForOverflowUnderflow gets the same value, not an OverflowException.
        return Bits <= 8 ? "unchecked((sbyte)(q[" + index + "] << " + shift + ") >> " + shift + ")" : "unchecked((short)(q[" + index + "] << " + shift + ") >> " + shift + ")";
    }

    /// <summary>Int lanes holding b-bit codes read through a sign extension from 8 bits, sign-extended from bit b − 1.</summary>
    public string SignExtended(string vectorClass, string ints)
    {
        string twos = Bits < 8 ? vectorClass + ".ShiftRightArithmetic(" + vectorClass + ".ShiftLeft(" + ints + ", " + (32 - Bits) + "), " + (32 - Bits) + ")" : ints;
        // 8-bit sign-magnitude codes are decoded as bytes when loaded (CodeVector), sixteen at a time.
        return SignMagnitude && Bits != 8 ? "CodeDecoding.SignMagnitude(" + twos + ", " + Top + ")" : twos;
    }

    /// <summary>A load of sixteen stored 8-bit codes as the signed bytes they stand for (decoded here if sign-magnitude).</summary>
    public string CodeVector(string load) => SignMagnitude && Bits == 8 ? "CodeDecoding.SignMagnitude(" + load + ")" : load;

    /// <summary>
    /// A span of floats a kernel needs: on the stack when small, else a per-thread buffer (declared by
    /// <see cref="WriteScratchField"/>); always the buffer when <paramref name="shared"/>, for a step whose parts run on
    /// other threads (a worker cannot read the caller's stack).
    /// </summary>
    public static string Scratch(string name, string method, long length, bool shared = false, string? field = null) => length <= StackFloats && !shared
        ? "Span<float> " + name + " = stackalloc float[" + length + "];"
        : "Span<float> " + name + " = " + Aligned(field ?? ScratchField(name, method), length.ToString(System.Globalization.CultureInfo.InvariantCulture)) + ";";

    /// <summary>
    /// The first <paramref name="length"/> floats of per-thread buffer <paramref name="field"/> from its aligned start,
    /// made on the thread's first call: whole vectors of it are whole cache lines (<c>AlignedArrays</c>).
    /// </summary>
    public static string Aligned(string field, string length) =>
        "global::Qtaml.Numerics.AlignedArrays.Span(" + field + " ??= global::Qtaml.Numerics.AlignedArrays.Allocate<float>(" + length + "), " + length + ")";

    /// <summary>A reference to the aligned start of a buffer made by <see cref="Aligned"/>, for the code that is handed the array.</summary>
    public static string AlignedStart(string array) => "ref " + array + "[global::Qtaml.Numerics.AlignedArrays.Start(" + array + ")]";

    /// <summary>
    /// The floats of the weight table every quantized kernel too large for the stack (or split across threads) converts
    /// its codes into: one per-thread buffer the steps take turns with, as long as the largest table, so a deep network's
    /// tables are not each a buffer of their own (ResNet-50's would be 100 MB written and read back from memory on every
    /// run; one buffer of the largest, 9.4 MB, stays in the cache).
    /// </summary>
    public long WeightTableFloats { get; private set; }

    /// <summary>The name of <see cref="WeightTableFloats"/>' constant and buffer in the generated class.</summary>
    public const string WeightTableName = "s_weightTable", WeightTableLengthName = "WeightTableFloats";

    /// <summary>
    /// Declares <c>table</c>, <paramref name="length"/> floats: on the stack when small and not <paramref name="shared"/>
    /// (a step split across threads), else the start of the shared weight table (<see cref="WeightTableFloats"/>).
    /// Returns whether it is the shared table, which holds the previous step's values until written.
    /// </summary>
    public bool DeclareTable(SourceWriter w, long length, bool shared)
    {
        if (length <= StackFloats && !shared)
        {
            w.Line("Span<float> table = stackalloc float[" + length + "];");
            return false;
        }
        WeightTableFloats = Math.Max(WeightTableFloats, length);
        w.Line("Span<float> table = " + Aligned(WeightTableName, WeightTableLengthName) + ".Slice(0, " + length + ");");
        return true;
    }

    /// <summary>
    /// Declares <c>weights</c>, a reference to the layer's weight table, its codes converted (<see cref="DecodeCall"/>):
    /// <paramref name="runs"/> runs of <paramref name="length"/> codes stored <paramref name="order"/>, each run padded
    /// with zeros to <paramref name="padded"/>; <paramref name="layout"/> describes the table ("[input][output]") for the
    /// comment. A step that splits across a pool's threads converts into the shared table, with all parts on one
    /// thread, or by part on every thread of the run's pool (<see cref="SplitTables"/>).
    /// </summary>
    public void WriteWeightTable(SourceWriter w, Step step, string order, string layout, int runs, int length, int padded)
    {
        w.Line("// The codes (stored " + order + ") dequantized short of their channel scale, (code + codeOffset) * scaleFactor: " + layout + ", padded with zeros to " + padded + ".");
        DeclareTable(w, (long)runs * padded, shared: step.Splits);
        if (step.Splits)
        {
            SplitTables[step] = (runs, length, padded);
            w.Line("if (split is null) " + DecodeCall("w", "scaleFactor", "codeOffset", "table", runs, length, padded, "0", "1") + ";");
            w.Line("else split.Decode(" + step.Layer + ", scaleFactor, codeOffset, " + WeightTableName + ");");
        }
        else
            w.Line(DecodeCall("w", "scaleFactor", "codeOffset", "table", runs, length, padded, "0", "1") + ";");
        w.Line("ref float weights = ref MemoryMarshal.GetReference(table);");
    }

    /// <summary>The weight tables of the steps that split: the runs, codes per run and padded run length each converts.</summary>
    public Dictionary<Step, (int Runs, int Length, int Padded)> SplitTables { get; } = new();

    /// <summary>
    /// The call that converts <paramref name="runs"/> runs of <paramref name="length"/> codes of span
    /// <paramref name="codes"/> into <paramref name="table"/> (run r at r · <paramref name="padded"/>), part
    /// <paramref name="part"/> of <paramref name="parts"/>: one helper for every layer (<see cref="WriteDecodeHelper"/>).
    /// </summary>
    public string DecodeCall(string codes, string scaleFactor, string codeOffset, string table, int runs, int length, int padded, string part, string parts) =>
        DecodeCall(codes, scaleFactor, codeOffset, table, runs.ToString(CultureInfo.InvariantCulture), length.ToString(CultureInfo.InvariantCulture), padded.ToString(CultureInfo.InvariantCulture), part, parts);

    /// <summary><see cref="DecodeCall(string, string, string, string, int, int, int, string, string)"/> with the sizes as expressions.</summary>
    public string DecodeCall(string codes, string scaleFactor, string codeOffset, string table, string runs, string length, string padded, string part, string parts) =>
        Helpers.Use("DecodeCodes", WriteDecodeHelper) + "(" + codes + ", " + scaleFactor + ", " + codeOffset + ", " + table + ", " + runs + ", " + length + ", " + padded + ", " + part + ", " + parts + ")";

    /// <summary>
    /// Declares <c>table</c> (the first <paramref name="floats"/> of the shared weight table) and <c>weights</c>, a
    /// reference to it, for a kernel that converts its codes (stored <paramref name="order"/>) a pass at a time.
    /// </summary>
    public void WritePassTable(SourceWriter w, Step step, string order, long floats)
    {
        PassDecoding.Add(step);
        w.Line("// The codes (stored " + order + ") dequantized short of their channel scale, (code + codeOffset) * scaleFactor: a pass's panels at a time"
            + (step.Splits ? ", on a pool's threads each into its own table for the passes of its part." : "."));
        DeclareTable(w, floats, shared: true);
        w.Line("ref float weights = ref MemoryMarshal.GetReference(table);");
    }

    /// <summary>The steps whose kernels convert their codes a pass at a time on one thread (<see cref="WritePassTable"/>): their <c>_Multiply</c> takes the codes too.</summary>
    public HashSet<Step> PassDecoding { get; } = new();

    /// <summary>The parameters a pass-decoding kernel's multiply-adds take before the table reference: the codes (empty: the table holds every pass's weights already), their dequantization and the table.</summary>
    public static readonly (string Type, string Name)[] PassDecodingParameters =
        { ("ReadOnlySpan<byte>", "w"), ("float", "scaleFactor"), ("float", "codeOffset"), ("Span<float>", "table") };

    /// <summary>
    /// The helper that fills a weight table from codes stored as runs: run r goes to table[r · padded ..], each entry
    /// (code + codeOffset) · scaleFactor, the layer's dequantization short of its channel scale, and the padding after it
    /// is zeroed (a shared table holds the step before's values). Sixteen 8-bit codes at a time are sign-extended and
    /// converted: one instruction each with AVX-512, two halves with AVX2, two widenings on any other vector hardware
    /// (SSE4.1, NEON); the rest of each run one at a time. Part <c>part</c> of <c>parts</c> converts its share of the
    /// runs, or of one run's chunks of sixteen codes.
    /// </summary>
    private void WriteDecodeHelper(SourceWriter w)
    {
        w.Line("/// <summary>Converts <paramref name=\"runs\"/> runs of <paramref name=\"length\"/> codes into <paramref name=\"table\"/>, run r at r · <paramref name=\"padded\"/>, each entry (code + codeOffset) · scaleFactor and the padding after it zero: part <paramref name=\"part\"/> of <paramref name=\"parts\"/>, its share of the runs, or of one run's chunks of sixteen codes.</summary>");
        using (w.Kernel("private static void " + SharedKernels.Placeholder + "(ReadOnlySpan<byte> w, " + DequantizationParameters + ", Span<float> table, int runs, int length, int padded, int part, int parts)"))
        {
            w.Line("if ((long)runs * length * " + Plan.BytesPerCode + " > w.Length || (long)runs * padded > table.Length) throw new ArgumentException(\"A layer buffer is too short.\");");
            w.Line(CodeSpan());
            w.Line("// Runs with no padding are one run.");
            using (w.Block("if (padded == length)"))
            {
                w.Line("length *= runs;");
                w.Line("padded = length;");
                w.Line("runs = 1;");
            }
            w.Line("int runFirst = 0, runEnd = runs, from = 0, to = length;");
            using (w.Block("if (runs > 1)"))
            {
                w.Line("runFirst = (int)((long)part * runs / parts);");
                w.Line("runEnd = (int)((long)(part + 1) * runs / parts);");
            }
            using (w.Block("else"))
            {
                w.Line("// This part's share of the chunks of sixteen codes; the last part also takes the codes after them.");
                w.Line("int chunks = length / 16;");
                w.Line("from = (int)((long)part * chunks / parts) * 16;");
                w.Line("to = part == parts - 1 ? length : (int)((long)(part + 1) * chunks / parts) * 16;");
            }
            bool vectors = Bits <= 8;
            if (vectors)
            {
                w.Line("int vectorEnd = from + (to - from) / 16 * 16;");
                w.Line("ref sbyte codes = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, sbyte>(w));");
                w.Line("ref float entries = ref MemoryMarshal.GetReference(table);");
            }
            using (w.Block("for (int run = runFirst; run < runEnd; run++)"))
            {
                w.Line("if (padded > length) table.Slice(run * padded + length, padded - length).Clear();");
                w.Line("int source = run * length, target = run * padded, o = from;");
                if (vectors)
                {
                    void Loop(string condition, string comment, Action<string, string> sixteen)
                    {
                        using (w.Block(condition))
                        {
                            w.Line("// " + comment);
                            string vector = condition.Contains("Avx512") ? "Vector512" : condition.Contains("Avx2") ? "Vector256" : "Vector128";
                            w.Line(vector + "<float> offset = " + vector + ".Create(codeOffset), factor = " + vector + ".Create(scaleFactor);");
                            using (w.Block("for (; o < vectorEnd; o += 16)"))
                                sixteen("(nuint)(source + o)", "(nuint)(target + o)");
                        }
                    }
                    Loop("if (Avx512F.IsSupported)", "Sixteen codes sign-extended by one instruction and converted by one more.", (from, to) =>
                        w.Line("Vector512.StoreUnsafe((Avx512F.ConvertToVector512Single(" + SignExtended("Vector512", "Avx512F.ConvertToVector512Int32(" + CodeVector("Vector128.LoadUnsafe(ref codes, " + from + ")") + ")") + ") + offset) * factor, ref entries, " + to + ");"));
                    Loop("else if (Avx2.IsSupported)", "Sixteen codes as two halves of eight, each sign-extended by one instruction.", (from, to) =>
                    {
                        w.Line("Vector128<sbyte> sixteen = " + CodeVector("Vector128.LoadUnsafe(ref codes, " + from + ")") + ";");
                        w.Line("Vector256.StoreUnsafe((Vector256.ConvertToSingle(" + SignExtended("Vector256", "Avx2.ConvertToVector256Int32(sixteen)") + ") + offset) * factor, ref entries, " + to + ");");
                        w.Line("Vector256.StoreUnsafe((Vector256.ConvertToSingle(" + SignExtended("Vector256", "Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(sixteen, 8))") + ") + offset) * factor, ref entries, " + to + " + 8);");
                    });
                    Loop("else if (Vector128.IsHardwareAccelerated)", "Sixteen codes widened twice to ints (SSE4.1 pmovsx, NEON sxtl) and converted, four vectors.", (from, to) =>
                    {
                        w.Line("(Vector128<short> low, Vector128<short> high) = Vector128.Widen(" + CodeVector("Vector128.LoadUnsafe(ref codes, " + from + ")") + ");");
                        w.Line("(Vector128<int> c0, Vector128<int> c1) = Vector128.Widen(low);");
                        w.Line("(Vector128<int> c2, Vector128<int> c3) = Vector128.Widen(high);");
                        for (int k = 0; k < 4; k++)
                            w.Line("Vector128.StoreUnsafe((Vector128.ConvertToSingle(" + SignExtended("Vector128", "c" + k) + ") + offset) * factor, ref entries, " + (k == 0 ? to : to + " + " + 4 * k) + ");");
                    });
                }
                w.Line("for (; o < to; o++) table[target + o] = (" + CodeRead("source + o") + " + codeOffset) * scaleFactor;");
            }
        }
    }

    /// <summary>A kernel's parameter for the run's <c>SplitWork</c> when its step splits (null on one thread), else nothing.</summary>
    public static string SplitParameter(Step step) => step.Splits ? ", " + SplitWorkWriter.ClassName + "? split" : "";

    /// <summary>
    /// Ends the kernel of a step that splits with the call of its <c>_Multiply</c>: with all parts (0 of 1) when there is
    /// no pool, else the run's <c>SplitWork</c> has every thread of the pool call it for its part, over the shared weight
    /// table (quantized builds) and <paramref name="stagedField"/> (null: the input in the arena). Then opens
    /// <c>_Multiply(ref float weights, ref float <paramref name="input"/>, ref float result, int part, int parts)</c>,
    /// whose body the caller writes; the caller's own block closes it.
    /// </summary>
    public void WriteSplitMultiply(SourceWriter w, Step step, string input, string? stagedField, string summary)
    {
        string method = step.Method;
        bool byPass = PassDecoding.Contains(step);
        // A residual Add folded in (Step.FusedAdd): the value added, stored as the output is, comes after the output.
        string residual = step.FusedAdd ? ", ref residual" : "";
        w.Line("if (split is null) " + method + "_Multiply(" + (byPass ? string.Join(", ", PassDecodingParameters.Select(p => p.Name)) + ", " : "") + "ref weights, ref " + input + ", ref result" + residual + ", 0, 1);");
        // A pass-decoding step's parts each convert their own passes' codes on their own thread (SplitWork.RunDecoding).
        w.Line(byPass
            ? "else split.RunDecoding(" + step.Layer + ", scaleFactor, codeOffset, " + (stagedField ?? "null") + ");"
            : "else split.Run(" + step.Layer + ", " + (IsQuantized ? WeightTableName : "null") + ", " + (stagedField ?? "null") + ");");
        w.Close();
        w.Line();
        w.Line("/// <summary>" + summary + (byPass ? " With codes, each pass converts its own panels into <c>table</c>; with none, the table holds them all." : "") + "</summary>");
        w.Open("private static void " + method + "_Multiply(" + (byPass ? string.Join(", ", PassDecodingParameters.Select(p => p.Type + " " + p.Name)) + ", " : "") + "ref float weights, ref float " + input + ", ref float result" + (step.FusedAdd ? ", ref float residual" : "") + ", int part, int parts)");
    }

    /// <summary>The shared weight table's constant and per-thread field, once every kernel is written.</summary>
    public void WriteWeightTableField(SourceWriter w)
    {
        if (WeightTableFloats == 0) return;
        w.Line("/// <summary>The weight table the quantized kernels convert their codes into, one step after another: as long as the largest.</summary>");
        w.Line("private const int " + WeightTableLengthName + " = " + WeightTableFloats + ";");
        w.Line();
        w.Line("[ThreadStatic] private static float[]? " + WeightTableName + ";");
        w.Line();
    }

    /// <summary>The per-thread buffer behind a scratch span that is not on the stack.</summary>
    public static string ScratchField(string name, string method) => "s_" + method + "_" + name;

    /// <summary>The per-thread buffers several kernels share (by name), declared by the first.</summary>
    private readonly HashSet<string> _sharedScratch = new();

    /// <summary>Declares per-thread buffer <paramref name="field"/> (as <see cref="WriteScratchField"/>) unless a kernel before declared it.</summary>
    public void WriteScratchFieldOnce(SourceWriter w, string field, long length, bool shared = false)
    {
        if ((length > StackFloats || (shared && length > 0)) && _sharedScratch.Add(field)) w.Line("[ThreadStatic] private static float[]? " + field + ";");
    }

    public static void WriteScratchField(SourceWriter w, string name, string method, long length, bool shared = false)
    {
        if (length > StackFloats || (shared && length > 0)) w.Line("[ThreadStatic] private static float[]? " + ScratchField(name, method) + ";");
    }

    /// <summary>The check that lets the kernel read and write through references without bounds tests.</summary>
    public static string LengthCheck(params (string Span, long Length)[] spans) =>
        "if (" + string.Join(" || ", spans.Select(s => s.Span + ".Length < " + s.Length)) + ") throw new ArgumentException(\"A layer buffer is too short.\");";

    public static float[] Pad(float[] values, int length)
    {
        var result = new float[length];
        Array.Copy(values, result, Math.Min(values.Length, length));
        return result;
    }

    /// <summary>Float weights rearranged as runs of <paramref name="length"/> padded to <paramref name="padded"/>, from the positions <paramref name="position"/> gives.</summary>
    public static float[] PaddedRuns(float[] weights, int runs, int length, int padded, Func<int, int> position)
    {
        var table = new float[(long)runs * padded];
        for (int i = 0; i < weights.Length; i++)
        {
            int at = position(i);
            table[at / length * padded + at % length] = weights[i];
        }
        return table;
    }
}
