using System;
using Qtaml.Generators.Lowering;

namespace Qtaml.Generators.Emit.Kernels;

/// <summary>Conversions between layouts, written once per shape and shared by the steps that need them.</summary>
internal static class LayoutKernels
{
    /// <summary>
    /// Positions a transposition between planes and channels-last moves at a time: 16 floats of a plane are one 64-byte
    /// line, and 16 positions of up to a few hundred channels (16 x 512 x 4 bytes = 32 KB) stay in a core's first-level cache.
    /// </summary>
    public const int TransposeBlock = 16;

    /// <summary>Copies a channels-last value into the ONNX graph's channel planes (the padding slots are dropped).</summary>
    public static void WriteToPlanes(SourceWriter w, Step step, ValueInfo value)
    {
        int images = value.Images, channels = value.Channels, positions = value.Positions, slots = value.ChannelSlots;
        w.Line("/// <summary>" + (images > 1 ? images + " images, each " : "") + "[" + positions + " positions][" + slots + " slots] channels-last to [" + channels + "][" + positions + "] planes.</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> x, Span<float> y)"))
        {
            w.Line(KernelContext.LengthCheck(("x", (long)images * positions * slots), ("y", (long)images * channels * positions)));
            w.Line("ref float source = ref MemoryMarshal.GetReference(x);");
            w.Line("ref float target = ref MemoryMarshal.GetReference(y);");
            IDisposable? imageLoop = null;
            if (images > 1)
            {
                imageLoop = w.Block("for (nuint n = 0; n < " + images + "; n++)");
                w.Line("ref float image = ref Unsafe.Add(ref source, n * " + (long)positions * slots + ");");
                w.Line("ref float planes = ref Unsafe.Add(ref target, n * " + (long)channels * positions + ");");
            }
            string from = images > 1 ? "image" : "source", to = images > 1 ? "planes" : "target";
            // A block of positions at a time, every channel of it: the block's rows of slots stay in the first-level
            // cache while each channel's values are written as one run of the block's length. Channel by channel over
            // every position, each read was of a new cache line and the value (Inception's 192 x 3025, 2.3 MB) was
            // read from memory once per channel.
            WriteBlocked(w, positions, "p", channels, "c", "Unsafe.Add(ref " + to + ", c * " + positions + " + p) = Unsafe.Add(ref " + from + ", p * " + slots + " + c);");
            imageLoop?.Dispose();
        }
        w.Line();
    }

    /// <summary>
    /// The loops of a transposition between planes and channels-last, <see cref="TransposeBlock"/> positions (counter
    /// <paramref name="position"/>, up to <paramref name="positions"/>) at a time, every channel (counter
    /// <paramref name="channel"/>) of the block before the next: <paramref name="move"/> moves one float. A count of
    /// positions within one block is one block.
    /// </summary>
    public static void WriteBlocked(SourceWriter w, long positions, string position, int channels, string channel, string move)
    {
        if (positions <= TransposeBlock)
        {
            using (w.Block("for (nuint " + channel + " = 0; " + channel + " < " + channels + "; " + channel + "++)"))
                w.Line("for (nuint " + position + " = 0; " + position + " < " + positions + "; " + position + "++) " + move);
            return;
        }
        using (w.Block("for (nuint block = 0; block < " + positions + "; block += " + TransposeBlock + ")"))
        {
            w.Line("nuint end = block + " + TransposeBlock + " < " + positions + " ? block + " + TransposeBlock + " : " + positions + ";");
            using (w.Block("for (nuint " + channel + " = 0; " + channel + " < " + channels + "; " + channel + "++)"))
                w.Line("for (nuint " + position + " = block; " + position + " < end; " + position + "++) " + move);
        }
    }

    /// <summary>Copies a value (in planes) into an output span: an output that is an input, or that another output holds.</summary>
    public static void WriteCopy(SourceWriter w, Step step, ValueInfo value)
    {
        w.Line("/// <summary>Copies " + value.Length + " values.</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> x, Span<float> y)"))
            w.Line("x.Slice(0, " + value.Length + ").CopyTo(y);");
        w.Line();
    }
}
