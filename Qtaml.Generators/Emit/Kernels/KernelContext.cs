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

    public KernelContext(ModelPlan plan, KernelProgram program)
    {
        Plan = plan;
        Program = program;
        _quantized = plan.Layers.ToDictionary(q => q.Layer);
    }

    public ModelPlan Plan { get; }
    public KernelProgram Program { get; }
    public bool IsQuantized => Plan.IsQuantized;
    public int Bits => Plan.Bits;

    /// <summary>Activations up to this many floats live on the stack; larger ones in per-thread buffers.</summary>
    public const int StackFloats = 32 * 1024;

    public QuantizedLayer Quantized(WeightLayer layer) => _quantized[layer];

    public ValueInfo Value(int value) => Program.Values[Program.Root(value)];

    /// <summary>The declaration of <c>q</c>, the layer's codes as signed integers of the stored width (b &lt; 8: bytes to sign-extend).</summary>
    public string CodeSpan() => Bits switch
    {
        8 => "ReadOnlySpan<sbyte> q = MemoryMarshal.Cast<byte, sbyte>(w);",
        16 => "ReadOnlySpan<short> q = MemoryMarshal.Cast<byte, short>(w);",
        < 8 => "ReadOnlySpan<byte> q = w;",
        _ => "ReadOnlySpan<ushort> q = MemoryMarshal.Cast<byte, ushort>(w);",
    };

    /// <summary>The expression that reads code i of <c>q</c> as an int, sign-extended from b bits.</summary>
    public string CodeRead(string index)
    {
        if (Bits is 8 or 16) return "q[" + index + "]";   // sbyte or short spans: already signed
        int shift = (Bits <= 8 ? 8 : 16) - Bits;
        // The narrowing cast wraps on purpose (it moves the code's sign bit to the top); unchecked, so a consumer
        // that builds with CheckForOverflowUnderflow gets the same value, not an OverflowException.
        return Bits <= 8 ? "unchecked((sbyte)(q[" + index + "] << " + shift + ") >> " + shift + ")" : "unchecked((short)(q[" + index + "] << " + shift + ") >> " + shift + ")";
    }

    /// <summary>Int lanes holding b-bit codes read through a sign extension from 8 bits, sign-extended from bit b − 1.</summary>
    public string SignExtended(string vectorClass, string ints) =>
        Bits < 8 ? vectorClass + ".ShiftRightArithmetic(" + vectorClass + ".ShiftLeft(" + ints + ", " + (32 - Bits) + "), " + (32 - Bits) + ")" : ints;

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
    /// runs of <paramref name="length"/> codes: run k goes to table[k·<paramref name="padded"/> ..], each code plus
    /// <paramref name="offset"/>. Sixteen 8-bit codes at a time are widened to ints and converted (Vector128, every
    /// CPU); the rest of each run one at a time.
    /// </summary>
    public void WriteCodeTable(SourceWriter w, int runs, int length, int padded, float offset)
    {
        int whole = Bits <= 8 ? length / 16 * 16 : 0;
        string plus = offset != 0 ? " + " + Literals.Float(offset) : "";
        if (whole > 0)
        {
            using (w.Block("if (Vector128.IsHardwareAccelerated)"))
            {
                w.Line("// Sixteen codes widened to ints and converted to floats, four vectors at a time.");
                w.Line("ref sbyte codes = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<byte, sbyte>(w));");
                w.Line("ref float entries = ref MemoryMarshal.GetReference(table);");
                if (offset != 0) w.Line("Vector128<float> offset = Vector128.Create(" + Literals.Float(offset) + ");");
                using (w.Block("for (nuint run = 0; run < " + runs + "; run++)"))
                using (w.Block("for (nuint o = 0; o < " + whole + "; o += 16)"))
                {
                    w.Line("(Vector128<short> low, Vector128<short> high) = Vector128.Widen(Vector128.LoadUnsafe(ref codes, run * " + length + " + o));");
                    w.Line("(Vector128<int> c0, Vector128<int> c1) = Vector128.Widen(low);");
                    w.Line("(Vector128<int> c2, Vector128<int> c3) = Vector128.Widen(high);");
                    for (int k = 0; k < 4; k++)
                        w.Line("Vector128.StoreUnsafe(Vector128.ConvertToSingle(" + SignExtended("Vector128", "c" + k) + ")" + (offset != 0 ? " + offset" : "") + ", ref entries, run * " + padded + " + o + " + (4 * k) + ");");
                }
            }
        }
        string from = whole > 0 ? "Vector128.IsHardwareAccelerated ? " + whole + " : 0" : "0";
        if (whole < length || whole > 0)
        {
            w.Line("int first = " + from + ";");
            using (w.Block("for (int run = 0; run < " + runs + "; run++)"))
                w.Line("for (int o = first; o < " + length + "; o++) table[run * " + padded + " + o] = " + CodeRead("run * " + length + " + o") + plus + ";");
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
