using System;
using System.Collections.Generic;
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

    /// <summary>A span of floats a kernel needs: on the stack when small, else a per-thread buffer (declared by <see cref="WriteScratchField"/>).</summary>
    public static string Scratch(string name, string method, long length) => length <= StackFloats
        ? "Span<float> " + name + " = stackalloc float[" + length + "];"
        : "Span<float> " + name + " = s_" + method + "_" + name + " ??= new float[" + length + "];";

    public static void WriteScratchField(SourceWriter w, string name, string method, long length)
    {
        if (length > StackFloats) w.Line("[ThreadStatic] private static float[]? s_" + method + "_" + name + ";");
    }

    /// <summary>The check that lets the kernel read and write through references without bounds tests.</summary>
    public static string LengthCheck(params (string Span, long Length)[] spans) =>
        "if (" + string.Join(" || ", spans.Select(s => s.Span + ".Length < " + s.Length)) + ") throw new ArgumentException(\"A layer buffer is too short.\");";

    /// <summary>
    /// Fills <c>table</c> (a float span in scope) from the codes span <c>w</c> stored as <paramref name="runs"/>
    /// runs of <paramref name="length"/> codes: run k goes to table[k·<paramref name="padded"/> ..], each entry
    /// (code + codeOffset) · scaleFactor, the layer's dequantization short of its channel scale (parameters of the kernel,
    /// <see cref="DequantizationParameters"/>). Runs that need no padding are one run. Sixteen 8-bit codes at a time are
    /// sign-extended and converted: one instruction each with AVX-512, two halves with AVX2, two widenings on any
    /// other vector hardware (SSE4.1, NEON); the rest of each run one at a time.
    /// </summary>
    public void WriteCodeTable(SourceWriter w, int runs, int length, int padded)
    {
        if (length == padded)
        {
            length *= runs;
            padded = length;
            runs = 1;
        }
        int whole = Bits <= 8 ? length / 16 * 16 : 0;
        bool tail = whole < length;
        if (tail) w.Line("int first = 0;");
        if (whole > 0)
        {
            w.Line("ref sbyte codes = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, sbyte>(w));");
            w.Line("ref float entries = ref MemoryMarshal.GetReference(table);");
            void Loop(string condition, string comment, Action<string, string> sixteen)
            {
                using (w.Block(condition))
                {
                    w.Line("// " + comment);
                    string vector = condition.Contains("Avx512") ? "Vector512" : condition.Contains("Avx2") ? "Vector256" : "Vector128";
                    w.Line(vector + "<float> offset = " + vector + ".Create(codeOffset), factor = " + vector + ".Create(scaleFactor);");
                    IDisposable? runLoop = runs > 1 ? w.Block("for (nuint run = 0; run < " + runs + "; run++)") : null;
                    using (w.Block("for (nuint o = 0; o < " + whole + "; o += 16)"))
                        sixteen(IndexExpression.Of(0, (runs > 1 ? "run" : "", length), ("o", 1)), IndexExpression.Of(0, (runs > 1 ? "run" : "", padded), ("o", 1)));
                    runLoop?.Dispose();
                    if (tail) w.Line("first = " + whole + ";");
                }
            }
            Loop("if (Avx512F.IsSupported)", "Sixteen codes sign-extended by one instruction and converted by one more.", (from, to) =>
                w.Line("Vector512.StoreUnsafe((Avx512F.ConvertToVector512Single(" + SignExtended("Vector512", "Avx512F.ConvertToVector512Int32(" + CodeVector("Vector128.LoadUnsafe(ref codes, " + from + ")") + ")") + ") + offset) * factor, ref entries, " + to + ");"));
            Loop("else if (Avx2.IsSupported)", "Sixteen codes as two halves of eight, each sign-extended by one instruction.", (from, to) =>
            {
                w.Line("Vector128<sbyte> sixteen = " + CodeVector("Vector128.LoadUnsafe(ref codes, " + from + ")") + ";");
                w.Line("Vector256.StoreUnsafe((Vector256.ConvertToSingle(" + SignExtended("Vector256", "Avx2.ConvertToVector256Int32(sixteen)") + ") + offset) * factor, ref entries, " + to + ");");
                w.Line("Vector256.StoreUnsafe((Vector256.ConvertToSingle(" + SignExtended("Vector256", "Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(sixteen, 8))") + ") + offset) * factor, ref entries, " + IndexExpression.Plus(to, 8) + ");");
            });
            Loop("else if (Vector128.IsHardwareAccelerated)", "Sixteen codes widened twice to ints (SSE4.1 pmovsx, NEON sxtl) and converted, four vectors.", (from, to) =>
            {
                w.Line("(Vector128<short> low, Vector128<short> high) = Vector128.Widen(" + CodeVector("Vector128.LoadUnsafe(ref codes, " + from + ")") + ");");
                w.Line("(Vector128<int> c0, Vector128<int> c1) = Vector128.Widen(low);");
                w.Line("(Vector128<int> c2, Vector128<int> c3) = Vector128.Widen(high);");
                for (int k = 0; k < 4; k++)
                    w.Line("Vector128.StoreUnsafe((Vector128.ConvertToSingle(" + SignExtended("Vector128", "c" + k) + ") + offset) * factor, ref entries, " + IndexExpression.Plus(to, 4 * k) + ");");
            });
        }
        if (tail)
        {
            IDisposable? tailRuns = runs > 1 ? w.Block("for (int run = 0; run < " + runs + "; run++)") : null;
            string run = runs > 1 ? "run" : "";
            w.Line("for (int o = first; o < " + length + "; o++) table[" + IndexExpression.Of(0, (run, padded), ("o", 1)) + "] = " + "(" + CodeRead(IndexExpression.Of(0, (run, length), ("o", 1))) + " + codeOffset) * scaleFactor;");
            tailRuns?.Dispose();
        }
    }

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
