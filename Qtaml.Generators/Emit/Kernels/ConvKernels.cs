using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Lowering;
using Qtaml.Generators.Network;
using Qtaml.Generators.Planning;

namespace Qtaml.Generators.Emit.Kernels;

/// <summary>
/// Convolutions. The table kernels read their input channels-last inside a zero border (staged first when the
/// layer pads or its input arrives in planes), so their inner loops have no bounds tests and no branches, and
/// write channels-last: a vector of output channels per position. Every index is a constant or a loop counter
/// times a constant.
/// </summary>
internal static class ConvKernels
{
    public static void Write(SourceWriter w, KernelContext k, Step step, ConvLayer c)
    {
        switch (step.Kernel)
        {
            case Kernel.ConvTable: WriteTable(w, k, step, c); break;
            case Kernel.ConvDepthwise: WriteDepthwise(w, k, step, c); break;
            default: WriteDirect(w, k, step, c); break;
        }
    }

    /// <summary>
    /// The most multiply-adds (taps × positions × channel vectors) of one window pass that a table kernel writes out
    /// tap by tap; a larger pass loops over the window's rows, and over its columns where one row is still larger.
    /// </summary>
    private const int MaxUnrolledTaps = 160;

    /// <summary>
    /// The same for a layer of fewer than <see cref="UnrolledLayerWork"/> multiply-adds. Measured on Inception v1
    /// (8-bit, AVX-512, min of 80 runs): unrolling its large 3x3 and 5x5 layers only to 64 costs 4% of its time, so large
    /// layers keep 160; a small layer's unrolling buys nothing measurable and was most of a small network's code (the
    /// 3-channel stem of a separable CNN: 70 KB of C# for three widths at 160, a third of it at 48).
    /// </summary>
    private const int SmallLayerUnrolledTaps = 48;

    /// <summary>The multiply-adds from which a layer's window passes unroll up to <see cref="MaxUnrolledTaps"/>.</summary>
    private const long UnrolledLayerWork = 4_000_000;

    /// <summary>
    /// The same for a depthwise kernel (taps × positions). Measured on PP-OCRv4's recogniser (14 depthwise 3x3 and 5x5
    /// layers): unrolled up to 160 its depthwise kernels were 960 KB of C# for three vector widths, looping over rows
    /// beyond 48 makes them 410 KB with the same outputs, bit for bit, and the same inference time (15.4 ms).
    /// </summary>
    private const int MaxUnrolledDepthwiseTaps = 48;

    private static string Signature(KernelContext k, Step step) => k.IsQuantized
        ? "private static void " + step.Method + "(ReadOnlySpan<byte> w, " + KernelContext.DequantizationParameters + ", ReadOnlySpan<float> x" + ResidualParameter(step) + ", Span<float> y" + KernelContext.SplitParameter(step) + ")"
        : "private static void " + step.Method + "(ReadOnlySpan<float> x" + ResidualParameter(step) + ", Span<float> y" + KernelContext.SplitParameter(step) + ")";

    /// <summary>A step with a residual Add folded in (<see cref="Step.FusedAdd"/>) reads the value it adds, <c>r</c>, stored as its output is.</summary>
    private static string ResidualParameter(Step step) => step.FusedAdd ? ", ReadOnlySpan<float> r" : "";

    /// <summary>
    /// The spatial extent a kernel loops over: the layer's, except that a pointwise convolution (1x1, stride 1, no
    /// padding) sees its positions as one long row, so its column blocks are whole and its loops short.
    /// </summary>
    private sealed record Plane(int InH, int InW, int OutH, int OutW)
    {
        public static Plane Of(ConvLayer c) =>
            IsPointwise(c) ? new Plane(1, c.InH * c.InW, 1, c.OutH * c.OutW) : new Plane(c.InH, c.InW, c.OutH, c.OutW);

        /// <summary>A 1x1 convolution with stride 1 and no padding: a matrix product over the positions.</summary>
        public static bool IsPointwise(ConvLayer c)
        {
            Window k = c.Window;
            return k.Size == 1 && k.StrideH == 1 && k.StrideW == 1 && k.PadTop == 0 && k.PadLeft == 0 && c.OutH == c.InH && c.OutW == c.InW;
        }
    }

    /// <summary>The geometry of a staged, zero-bordered, channels-last input.</summary>
    private sealed record Staging(bool Stages, bool Transposes, int PaddedH, int PaddedW, int ChannelStride, string Field)
    {
        public long Length => (long)PaddedH * PaddedW * ChannelStride;
    }

    /// <summary>
    /// The per-thread buffer a staging writes, named by what it writes: every convolution that stages the same interior
    /// (the same map inside the same border, channels at the same stride, the same channels or whole rows) shares one,
    /// so a network of many such layers (ShuffleNet's and MobileNet's depthwise convolutions) stages into memory the
    /// cache still holds from the layer before, where a buffer per layer (0.5 MB each) was written from memory every
    /// run. Each writes only that interior, so the border and the slots past its channels stay the zeros the buffer was
    /// made with.
    /// </summary>
    private static string StagingField(ConvLayer c, Plane plane, int paddedH, int paddedW, int channelStride, bool transposes)
    {
        Window win = c.Window;
        string I(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "s_staged_" + I(paddedH) + "x" + I(paddedW) + "x" + I(channelStride) + "_at_" + I(win.PadTop) + "_" + I(win.PadLeft)
            + "_of_" + I(plane.InH) + "x" + I(plane.InW) + (transposes ? "x" + I(c.InChannels) : "_rows");
    }

    private static Staging Stage(KernelContext k, Step step, ConvLayer c, int channelStride)
    {
        // A step that splits reads its input from memory the workers can reach: the arena, or else a staged copy.
        bool copies = step.Splits && k.Program.Placements[k.Program.Root(step.Inputs[0])].Buffer != Lowering.Buffer.Arena;
        Window win = c.Window;
        Plane v = Plane.Of(c);
        ValueInfo input = k.Value(step.Inputs[0]).Image();
        bool pads = win.PadTop > 0 || win.PadLeft > 0 || (v.OutH - 1) * win.StrideH + win.ExtentH > v.InH || (v.OutW - 1) * win.StrideW + win.ExtentW > v.InW;
        bool planes = input.Layout == Layout.Planes;
        // One channel in planes is already channels-last with stride 1; a channels-last input keeps its slots.
        bool transposes = planes && channelStride > 1;
        bool restrides = !planes && input.ChannelSlots != channelStride;
        // A channel shuffle folded in (FoldChannelShuffles) is done by the staging, so a shuffled input is always staged.
        bool shuffles = step.InputShuffle > 0;
        int paddedH = pads ? Math.Max(v.InH + win.PadTop, (v.OutH - 1) * win.StrideH + win.ExtentH) : v.InH;
        int paddedW = pads ? Math.Max(v.InW + win.PadLeft, (v.OutW - 1) * win.StrideW + win.ExtentW) : v.InW;
        return new Staging(pads || transposes || restrides || copies || shuffles, transposes || restrides || shuffles, paddedH, paddedW, channelStride,
            StagingField(c, v, paddedH, paddedW, channelStride, transposes || restrides || shuffles));
    }

    /// <summary>Declares <c>pixels</c>, a reference to the input channels-last inside its zero border.</summary>
    private static void WriteStaging(SourceWriter w, KernelContext k, Step step, ConvLayer c, string method, Staging s)
    {
        ValueInfo input = k.Value(step.Inputs[0]).Image();
        Window win = c.Window;
        Plane plane = Plane.Of(c);
        if (!s.Stages)
        {
            w.Line("ref float pixels = ref MemoryMarshal.GetReference(x);");
            return;
        }
        w.Line("// The input channels-last" + (s.PaddedH > plane.InH || s.PaddedW > plane.InW ? " inside a zero border of " + win.PadTop + " row(s) and " + win.PadLeft + " column(s)" : "") + ": " + s.PaddedH + " x " + s.PaddedW + " x " + s.ChannelStride + ".");
        // A buffer on the heap is zero when made and only its interior is ever written (this kernel's own, the same
        // geometry every call), so its border and padding slots stay zero without clearing it each call.
        w.Line(KernelContext.Scratch("staged", method, s.Length, step.Splits, s.Field));
        w.Line("ref float pixels = ref MemoryMarshal.GetReference(staged);");
        int inSlots = input.Layout == Layout.Planes ? 0 : input.ChannelSlots;
        if (step.InputShuffle > 0)
        {
            // The channel shuffle before this layer, done as its input is staged: each position's channels read as
            // [a][b] and stored as [b][a], so the shuffled value is never stored. Each position's a runs are read
            // while its staged channels are written in order, all in the first-level cache.
            int a = step.InputShuffle, b = c.InChannels / a;
            w.Line("// Staged through the channel shuffle: staged channel j * " + a + " + i is input channel i * " + b + " + j.");
            w.Line("ref float source = ref MemoryMarshal.GetReference(x);");
            using (w.Block("for (nuint iy = 0; iy < " + plane.InH + "; iy++)"))
            using (w.Block("for (nuint ix = 0; ix < " + plane.InW + "; ix++)"))
            {
                w.Line("ref float from = ref Unsafe.Add(ref source, " + IndexExpression.Of(0, ("iy", (long)plane.InW * inSlots), ("ix", inSlots)) + ");");
                w.Line("ref float to = ref Unsafe.Add(ref pixels, " + IndexExpression.Of(((long)win.PadTop * s.PaddedW + win.PadLeft) * s.ChannelStride, ("iy", (long)s.PaddedW * s.ChannelStride), ("ix", s.ChannelStride)) + ");");
                TensorKernels.WriteShuffledPosition(w, a, b);
            }
        }
        else if (s.Transposes && inSlots == 0 && c.InChannels <= InterleavedChannels)
        {
            // A few planes (an image's colours): each position's channels side by side, read from every plane at the
            // same index, so the stores are one sequential stream (channel by channel, each plane's pass stored every
            // third float: SqueezeNet's first convolution 16% slower).
            w.Line("ref float source = ref MemoryMarshal.GetReference(x);");
            using (w.Block("for (nuint iy = 0; iy < " + plane.InH + "; iy++)"))
            using (w.Block("for (nuint ix = 0; ix < " + plane.InW + "; ix++)"))
            {
                w.Line("nuint at = " + IndexExpression.Of(0, ("iy", plane.InW), ("ix", 1)) + ";");
                w.Line("ref float to = ref Unsafe.Add(ref pixels, " + IndexExpression.Of(((long)win.PadTop * s.PaddedW + win.PadLeft) * s.ChannelStride, ("iy", (long)s.PaddedW * s.ChannelStride), ("ix", s.ChannelStride)) + ");");
                for (int ic = 0; ic < c.InChannels; ic++)
                    w.Line((ic == 0 ? "to" : "Unsafe.Add(ref to, " + ic + ")") + " = Unsafe.Add(ref source, " + IndexExpression.Plus("at", (long)ic * plane.InH * plane.InW) + ");");
            }
        }
        else if (s.Transposes && inSlots == 0)
        {
            // Planes to channels-last, a block of a row's positions at a time, every channel of it: each plane's piece
            // of the block is one read run, and the block's staged positions stay in the first-level cache while every
            // channel is stored into them. Channel by channel over the whole map, each store was to a new cache line
            // (Inception's 192 x 729 staging went through memory once per channel).
            w.Line("ref float source = ref MemoryMarshal.GetReference(x);");
            string to = IndexExpression.Of(((long)win.PadTop * s.PaddedW + win.PadLeft) * s.ChannelStride, ("iy", (long)s.PaddedW * s.ChannelStride), ("ix", s.ChannelStride), ("ic", 1));
            string from = IndexExpression.Of(0, ("ic", (long)plane.InH * plane.InW), ("iy", plane.InW), ("ix", 1));
            string move = "Unsafe.Add(ref pixels, " + to + ") = Unsafe.Add(ref source, " + from + ");";
            using (w.Block("for (nuint iy = 0; iy < " + plane.InH + "; iy++)"))
                LayoutKernels.WriteBlocked(w, plane.InW, "ix", c.InChannels, "ic", move);
        }
        else if (s.Transposes)
        {
            // Channels-last in other slots: each position's channels are one run, copied whole.
            w.Line("ref float source = ref MemoryMarshal.GetReference(x);");
            using (w.Block("for (nuint iy = 0; iy < " + plane.InH + "; iy++)"))
            using (w.Block("for (nuint ix = 0; ix < " + plane.InW + "; ix++)"))
            {
                string from = IndexExpression.Of(0, ("iy", (long)plane.InW * inSlots), ("ix", inSlots));
                string to = IndexExpression.Of(((long)win.PadTop * s.PaddedW + win.PadLeft) * s.ChannelStride, ("iy", (long)s.PaddedW * s.ChannelStride), ("ix", s.ChannelStride));
                w.Line("MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref source, " + from + "), " + c.InChannels + ").CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref pixels, " + to + "), " + c.InChannels + "));");
            }
        }
        else
        {
            int row = plane.InW * s.ChannelStride;
            using (w.Block("for (int iy = 0; iy < " + plane.InH + "; iy++)"))
                w.Line("x.Slice(" + IndexExpression.Of(0, ("iy", row)) + ", " + row + ").CopyTo(staged.Slice(" + IndexExpression.Of(((long)win.PadTop * s.PaddedW + win.PadLeft) * s.ChannelStride, ("iy", (long)s.PaddedW * s.ChannelStride)) + ", " + row + "));");
        }
    }

    /// <summary>
    /// What a table kernel does before its multiply-adds: the weight table (codes converted, or the baked floats),
    /// the staged input and the output.
    /// </summary>
    private static void WritePrologue(SourceWriter w, KernelContext k, Step step, ConvLayer c, Staging s, QuantizedLayer? q, int runs, int length, int padded, string order, string layout, long passFloats = 0)
    {
        string method = step.Method;
        if (q is not null && passFloats > 0)
            k.WritePassTable(w, step, order, passFloats);
        else if (q is not null)
            k.WriteWeightTable(w, step, order, layout, runs, length, padded);
        else
        {
            w.Line("ref float weights = ref MemoryMarshal.GetReference(" + method + "_Table);");
        }
        WriteStaging(w, k, step, c, method, s);
        w.Line("ref float result = ref MemoryMarshal.GetReference(y);");
        if (step.FusedAdd) w.Line("ref float residual = ref MemoryMarshal.GetReference(r);");
    }

    /// <summary>References to the layer's baked scales (quantized) and biases.</summary>
    private static void WriteStatics(SourceWriter w, string method, QuantizedLayer? q)
    {
        if (q is not null) w.Line("ref float scales = ref MemoryMarshal.GetReference(" + method + "_Scale);");
        w.Line("ref float biases = ref MemoryMarshal.GetReference(" + method + "_Bias);");
    }

    /// <summary>
    /// The multiply-adds (<paramref name="dispatch"/>: the call of the per-width method) after the prologue. On one
    /// thread they are written in the kernel, all parts at once (part 0 of 1). A step that splits has them in a method
    /// of its own, <c>_Multiply</c>, which the kernel calls with all parts when it runs without a pool, and which a
    /// pool's threads call through the run's <c>SplitWork</c>, each with its part, on the table and staged input the
    /// calling thread prepared (its per-thread buffers, handed over with the run).
    /// </summary>
    private static void WriteMultiplyAdds(SourceWriter w, KernelContext k, Step step, Staging s, QuantizedLayer? q, string summary, Action dispatch)
    {
        string method = step.Method;
        if (!step.Splits)
        {
            WriteStatics(w, method, q);
            w.Line("int part = 0, parts = 1;");
            dispatch();
            return;
        }
        k.WriteSplitMultiply(w, step, "pixels", s.Stages ? s.Field : null,
            summary + ": the multiply-adds of part <c>part</c> of <c>parts</c> of the output (all of it: part 0 of 1).");
        WriteStatics(w, method, q);
        dispatch();
    }

    /// <summary>The references a table kernel's per-width method takes (<see cref="WritePrologue"/> declares them).</summary>
    private static (string, string)[] KernelParameters(QuantizedLayer? q, bool decodeByPass = false, bool residual = false)
    {
        var parameters = new List<(string, string)>();
        // Decoding by pass: the codes, their dequantization and the table each pass converts its panels into.
        if (decodeByPass) parameters.AddRange(KernelContext.PassDecodingParameters);
        parameters.Add(("ref float", "weights"));
        if (q is not null) parameters.Add(("ref float", "scales"));
        parameters.AddRange(new[] { ("ref float", "biases"), ("ref float", "pixels") });
        parameters.Add(("ref float", "result"));
        if (residual) parameters.Add(("ref float", "residual"));
        parameters.Add(("int", "part"));
        parameters.Add(("int", "parts"));
        return parameters.ToArray();
    }

    /// <summary>
    /// The largest block of output columns (up to 14) whose accumulators fit the registers beside
    /// <paramref name="vectors"/> weight vectors and one broadcast (<paramref name="extraPerColumn"/> more per column).
    /// A row that is not whole blocks ends with one shorter block.
    /// </summary>
    private static int ColumnBlock(VectorWidth v, int columns, int vectors, int extraPerColumn) =>
        Enumerable.Range(1, Math.Min(14, columns)).Where(b => vectors + b * (vectors + extraPerColumn) + 1 <= v.Registers).DefaultIfEmpty(1).Max();

    /// <summary>
    /// The loop over output rows and blocks of <paramref name="block"/> columns; <paramref name="body"/> writes one
    /// block at column <c>ox</c>. Where a row is not whole blocks, its last block ends at the row's last column,
    /// overlapping the one before (those columns are computed twice, to the same values). Part <c>part</c> of
    /// <c>parts</c> takes its share of the rows.
    /// </summary>
    private static void WriteColumnBlocks(SourceWriter w, ShapeArguments a, int rows, int columns, int block, Action body)
    {
        string rowCount = a.Of("rows", rows);
        w.Line("nuint first = (nuint)part * " + rowCount + " / (nuint)parts, end = (nuint)(part + 1) * " + rowCount + " / (nuint)parts;");
        using (w.Block("for (nuint oy = first; oy < end; oy++)"))
        using (w.Block("for (nuint bx = 0; bx < " + a.Of("columnBlocks", (columns + block - 1) / block) + "; bx++)"))
        {
            w.Line("nuint ox = bx * " + block + ";");
            string last = a.Of("lastColumn", columns - block);
            w.Line("if (ox > " + last + ") ox = " + last + ";");
            body();
        }
    }

    /// <summary>
    /// A convolution as a table of weights per group, [panel][tap][channel of the panel] in panels of 16 output
    /// channels (<see cref="WeightOrder.TablePanel"/>) or else [tap][output channel] padded to whole vectors: converted
    /// from the codes once per call with the mean-correction offset added to every code (Σ(q + p01)·x is the
    /// corrected sum, so no window sums are needed), or baked as floats in an unquantized build. For each chunk of
    /// up to four channel vectors and each block of output positions in turn, every tap's weight vectors are loaded
    /// once and multiply-added with each position's input value, broadcast; (positions × vectors) accumulators stay
    /// in registers.
    /// Scale, bias and a fused ReLU are applied to whole vectors as they are stored channels-last.
    /// </summary>
    private static void WriteTable(SourceWriter w, KernelContext k, Step step, ConvLayer c)
    {
        string method = step.Method;
        Window win = c.Window;
        QuantizedLayer? q = k.IsQuantized ? k.Quantized(c) : null;
        int groups = c.Groups, groupOut = c.OutChannels / groups, groupIn = c.GroupInChannels, taps = c.TapsPerGroup;
        int slots = WeightOrder.OutputSlots(c);
        // One group: its channels padded to the slots (to whole panels where WeightOrder.PadsToPanels). Several: each group's own channels, at least a vector of 8
        // (ChooseKernels); a group that is not whole vectors of a width ends with a vector ending at its last channel,
        // overlapping the one before (the overlap is computed twice, to the same values), so no store leaves its group.
        int groupSlots = groups == 1 ? slots : groupOut;
        // Panels of fewer channels than a group's (WeightOrder.TablePanel), or one [tap][channel] table per group.
        bool panels = WeightOrder.TablePanel(c) < groupOut;
        long table = (long)groups * taps * groupSlots;
        ValueInfo input = k.Value(step.Inputs[0]).Image();
        int channelStride = input.Layout == Layout.ChannelsLast ? input.ChannelSlots : c.InChannels;
        Staging s = Stage(k, step, c, channelStride);
        ValueInfo output = k.Value(step.Output).Image();

        w.Line("/// <summary>" + Escape.XmlDoc(c.Name) + ": Conv " + Shape.Format(c.InputShape) + " -> " + Shape.Format(c.OutputShape) + ", kernel " + win
            + (groups > 1 ? ", " + groups + " groups" : "") + (step.FusedAdd ? ", plus the residual r (an Add fused in)" : "") + (step.FusedRelu ? ", ReLU fused in" : "") + "; reads " + (input.Layout == Layout.ChannelsLast ? "channels-last (" + input.ChannelSlots + " slots)" : "planes")
            + ", writes channels-last (" + (output.IsView ? "channels " + output.ChannelOffset + " to " + (output.ChannelOffset + c.OutChannels - 1) + " of " + output.ChannelSlots + " slots: its part of a Concat" : slots + " slots") + ").</summary>");
        using (w.Kernel(Signature(k, step)))
        {
            var lengths = new List<(string, long)> { ("x", input.StoredLength), ("y", output.StoredLength) };
            if (k.IsQuantized) lengths.Insert(0, ("w", (long)c.Weights.Length * k.Plan.BytesPerCode));
            if (step.FusedAdd) lengths.Add(("r", output.StoredLength));
            w.Line(KernelContext.LengthCheck(lengths.ToArray()));
            string order = (groups > 1 ? "per group, " : "") + (panels ? "in panels of " + WeightOrder.PanelChannels + " channels, each tap-major" : "tap-major");
            // On one thread, a quantized table of panels is converted a pass at a time, the pass's panels just before it
            // (see WritePassDecode); on a pool's threads the whole table first, each thread its share.
            bool decodeByPass = q is not null && panels && groups == 1 && (groupSlots == groupOut || WeightOrder.PadsToPanels(c));
            long passFloats = decodeByPass ? (long)taps * (MaxPassChannels + WeightOrder.PanelChannels) : 0;
            WritePrologue(w, k, step, c, s, q, groups * taps, groupOut, groupSlots, order, panels ? "[panel][tap][channel of the panel]" : "[tap][output channel]", passFloats);
            Plane plane = Plane.Of(c);
            int positions = plane.OutH * plane.OutW;
            // A pointwise convolution takes its sizes as parameters: every 1x1 layer of the same blocking shares one
            // method (a matrix product's loops gain nothing from constant bounds). A window keeps its offsets constants.
            bool pointwise = Plane.IsPointwise(c);
            WriteMultiplyAdds(w, k, step, s, q, Escape.XmlDoc(c.Name), () =>
            VectorWidth.DispatchToMethods(w, k, method, Escape.XmlDoc(c.Name) + ": the multiply-adds", KernelParameters(q, decodeByPass, step.FusedAdd), (w, v, a) =>
            {
                // Chunks of at most four channel vectors, as equal as they can be (96 channels of Vector512: two of 3, not 4 + 2).
                // A group that is not whole vectors of this width ends with a vector ending at its last channel (it
                // overlaps the one before), in the same pass as the vectors before it, so each broadcast input feeds it too.
                bool overlappingLast = groupSlots % v.Lanes != 0;
                int vectors = (groupSlots + v.Lanes - 1) / v.Lanes, passes = (vectors + 3) / 4, chunk = (vectors + passes - 1) / passes, block = ColumnBlock(v, positions, chunk, 0);
                // A pointwise loop keeps a distance per position and vector in a general register beside its two
                // references, the panel stride and its count (WritePointwiseChunk): block + chunk + 2 of x64's 14, or
                // the JIT spills some to the stack and reloads them every input channel. A shorter block costs few
                // more loads per multiply-add (one broadcast per position either way, the weights per block).
                // A window's loop holds three loop counters and the block's first position too (WriteTableChunk): block +
                // chunk + 5; at least 6 positions, where a spilled counter costs less than the loads a shorter block adds.
                block = Math.Max(1, Math.Min(block, pointwise ? GeneralRegisters - 2 - chunk : Math.Max(6, GeneralRegisters - 5 - chunk)));
                block = LeastOverlap(positions, block);
                int fullChunks = vectors / chunk, rest = vectors % chunk;
                // The passes of whole chunks are a loop; the one holding the overlapping vector, or the rest, comes after it.
                int looped = overlappingLast && rest == 0 ? fullChunks - 1 : fullChunks, lastAt = overlappingLast ? groupSlots - v.Lanes : -1;
                int tailCount = looped < fullChunks ? chunk : rest;
                int tailFirst = looped < fullChunks ? looped * chunk * v.Lanes : rest == 1 && lastAt >= 0 ? lastAt : fullChunks * chunk * v.Lanes;
                // Each chunk of output channels is the outer loop and the blocks of positions the inner one, so the
                // chunk's weights (taps × up to four vectors) are read from the cache for every block after the first:
                // position blocks outside would stream the whole table once per block (ResNet-50's 3x3 layers of 256
                // and 512 channels have tables of 2.4 and 9.4 MB, beyond a core's L2). The sums are the same.
                int width = chunk * v.Lanes;
                // One group of whole passes (a pointwise layer's loop below): a part takes a share of the (pass, block)
                // pairs, so a map of few blocks still splits evenly (a 7x7 map is 9 blocks of 6; 8 parts of them left
                // one thread a block more). Otherwise a share of the blocks, in every pass.
                // A window's kernel that splits does the same over its passes (a loop of whole chunks, then the tail):
                // each part then reads only its passes' weights, where sharing blocks had every thread read the whole
                // table (ResNet-50's last 3x3 layers: a 9.4 MB table for 9 blocks of a 7x7 map; 1.3x on two threads).
                bool wholeChunks = a.AsParameters && (tailCount == 0 || tailCount == chunk) && width <= groupSlots;
                bool pairs = groups == 1 && wholeChunks;
                int windowPasses = looped + (tailCount > 0 ? 1 : 0);
                bool windowPairs = groups == 1 && !wholeChunks && step.Splits && windowPasses > 1;
                string blocks = WriteBlockRange(w, a, positions, block, pairs ? a.Of("passes", (groupSlots + width - 1) / width) : windowPairs ? windowPasses.ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
                IDisposable? groupLoop = groups > 1 ? w.Block("for (nuint g = 0; g < " + a.Of("groups", groups) + "; g++)") : null;
                // A table of one panel per group is [tap][channel] padded to the group's slots: its rows are the slots apart.
                // The output's positions are its slots apart, or the Concat's it is written inside (ConcatInPlace).
                var geometry = new TableGeometry(c, s, groups > 1 ? "g" : "", groupSlots, output.ChannelSlots, block, panels ? WeightOrder.TablePanel(c) : groupSlots);
                void Pass(int count, string chunkVariable, int firstChannel, int lastChannel = -1, bool range = false)
                {
                    // A pass that declares panel offsets and is not a loop's body is a block of its own, so they are its own.
                    using (chunkVariable.Length == 0 && (a.AsParameters || geometry.Panels) ? w.Block("// output channels " + firstChannel + " to +" + count * v.Lanes) : null)
                    {
                        if (decodeByPass) WritePassDecode(w, k, v, a, geometry, count, chunkVariable, firstChannel, lastChannel);
                        WritePanelStarts(w, v, a, geometry, count, chunkVariable, firstChannel, lastChannel, decodeByPass ? "passStart" : null);
                        WritePositionBlocks(w, a, c, s, positions, block, () => WriteTableChunk(w, step, v, a, geometry, count, chunkVariable, firstChannel, q, lastChannel), range);
                    }
                }
                if (wholeChunks)
                {
                    // Every pass is a whole chunk: the last, if the group is not whole chunks, ends at the group's
                    // last channel and overlaps the one before (as many vectors as a tail pass would load), so one
                    // loop of one body covers the group.
                    using (w.Block("for (nuint chunk = 0; chunk < " + a.Of("groupSlots", groupSlots) + "; chunk += " + width + ")"))
                    {
                        if (pairs)
                        {
                            // This pass's blocks among the part's pairs: the pairs before it are pass · blocks.
                            w.Line("nuint before = chunk / " + width + " * " + blocks + ";");
                            w.Line("if (end <= before || first >= before + " + blocks + ") continue;");
                            w.Line(PassBlockRange(blocks));
                        }
                        string lastChunk = a.Of("lastChunk", groupSlots - width);
                        w.Line("if (chunk > " + lastChunk + ") chunk = " + lastChunk + ";");
                        Pass(chunk, "chunk", 0, range: pairs);
                    }
                }
                else
                {
                    // With windowPairs, pass p runs only the blocks of its pairs that fall in the part's range.
                    void InRange(string pass, Action body)
                    {
                        w.Line("nuint before = " + pass + " * " + blocks + ";");
                        using (w.Block("if (end > before && first < before + " + blocks + ")"))
                        {
                            w.Line(PassBlockRange(blocks));
                            body();
                        }
                    }
                    void OnePass(int pass, Action body)
                    {
                        if (!windowPairs) body();
                        else using (w.Block("// pass " + pass + ": its blocks among this part's (pass, block) pairs")) InRange(pass.ToString(System.Globalization.CultureInfo.InvariantCulture), body);
                    }
                    if (looped > 1 || (looped == 1 && a.AsParameters))
                        using (w.Block("for (nuint chunk = 0; chunk < " + a.Of("chunkEnd", looped * chunk * v.Lanes) + "; chunk += " + chunk * v.Lanes + ")"))
                        {
                            if (windowPairs) InRange("(chunk / " + chunk * v.Lanes + ")", () => Pass(chunk, "chunk", 0, range: true));
                            else Pass(chunk, "chunk", 0);
                        }
                    else if (looped == 1)
                        OnePass(0, () => Pass(chunk, "", 0, range: windowPairs));
                    if (tailCount > 0)
                        OnePass(looped, () => Pass(tailCount, "", tailFirst, lastAt, range: windowPairs));
                }
                groupLoop?.Dispose();
            }, wide: groupSlots >= VectorWidth.V512.Lanes, shapeParameters: pointwise));
        }
        w.Line();
        k.WriteScratchFieldOnce(w, s.Field, s.Stages ? s.Length : 0, step.Splits);
        if (q is not null)
        {
            float[] scales = Enumerable.Range(0, groups).SelectMany(g => KernelContext.Pad(q.ChannelScales.Skip(g * groupOut).Take(groupOut).ToArray(), groupSlots)).ToArray();
            w.Line("// Per-channel scale and bias, padded with zeros so the padding slots hold 0.");
            w.Line("private static ReadOnlySpan<float> " + method + "_Scale => " + k.Data.FloatSpan(scales) + ";");
        }
        else
        {
            float[] weights = WeightOrder.Table(c, groupSlots);
            w.Line(panels
                ? "// The weights [" + (groups > 1 ? "group][" : "") + "panel][tap][channel of the panel], panels of " + WeightOrder.PanelChannels + " output channels."
                : "// The weights [" + (groups > 1 ? "group][" : "") + "tap][output channel], padded with zeros to " + groupSlots + " channels.");
            w.Line("private static ReadOnlySpan<float> " + method + "_Table => " + k.Data.FloatSpan(weights) + ";");
        }
        float[] bias = Enumerable.Range(0, groups).SelectMany(g => KernelContext.Pad(c.Bias.Skip(g * groupOut).Take(groupOut).ToArray(), groupSlots)).ToArray();
        w.Line("private static ReadOnlySpan<float> " + method + "_Bias => " + k.Data.FloatSpan(bias) + ";");
        w.Line();
    }

    /// <summary>
    /// Declares <c>first</c> and <c>end</c>, the blocks of <paramref name="block"/> output positions that part
    /// <c>part</c> of <c>parts</c> computes: its share of the blocks, or, given the <paramref name="passes"/>, of the
    /// (pass, block) pairs; whole blocks only, so every part computes its positions exactly as one thread would.
    /// Returns the text of the block count.
    /// </summary>
    private static string WriteBlockRange(SourceWriter w, ShapeArguments a, int positions, int block, string? passes = null)
    {
        string blocks = a.Of("blocks", (positions + block - 1) / block);
        // Over (pass, block) pairs, pass-major, where the passes are given.
        string items = passes is null ? blocks : "(" + passes + " * " + blocks + ")";
        w.Line("nuint first = (nuint)part * " + items + " / (nuint)parts, end = (nuint)(part + 1) * " + items + " / (nuint)parts;");
        return blocks;
    }

    /// <summary>
    /// Declares <c>fromBlock</c> and <c>toBlock</c>: the blocks of the pass whose pairs start at <c>before</c> that fall
    /// in the part's range <c>first</c> to <c>end</c> of (pass, block) pairs (<see cref="WriteBlockRange"/> with passes).
    /// </summary>
    private static string PassBlockRange(string blocks) =>
        "nuint fromBlock = first > before ? first - before : 0, toBlock = end < before + " + blocks + " ? end - before : " + blocks + ";";

    /// <summary>
    /// The loop over the part's blocks of <paramref name="block"/> output positions (row after row, a block may span
    /// two; <see cref="WriteBlockRange"/> declares the range); <paramref name="body"/> writes one block at position
    /// <c>at</c>, with <c>start0</c>.. the offsets of its windows in the staged input. Where the positions are not
    /// whole blocks, the last block ends at the last position, overlapping the one before: those positions are
    /// computed twice, to the same values, and no block is shorter.
    /// </summary>
    private static void WritePositionBlocks(SourceWriter w, ShapeArguments a, ConvLayer c, Staging s, int positions, int block, Action body, bool range = false)
    {
        // range: the pass's blocks fromBlock to toBlock, of the part's (pass, block) pairs (WriteBlockRange with passes).
        using (w.Block(range ? "for (nuint b = fromBlock; b < toBlock; b++)" : "for (nuint b = first; b < end; b++)"))
        {
            w.Line("nuint at = b * " + block + ";");
            if (positions % block != 0 || a.AsParameters)
            {
                string last = a.Of("lastBlock", positions - block);
                w.Line("if (at > " + last + ") at = " + last + ";");
            }
            Window win = c.Window;
            string Start(int p)
            {
                string position = IndexExpression.Plus("at", p);
                // A pointwise layer's positions are one row: position p reads the input at p times its channel stride.
                if (Plane.IsPointwise(c)) return "(" + position + ") * " + a.Of("inStride", s.ChannelStride);
                long row = (long)win.StrideH * s.PaddedW * s.ChannelStride, column = (long)win.StrideW * s.ChannelStride;
                return c.OutW == 1 ? "(" + position + ") * " + row : "(" + position + ") / " + c.OutW + " * " + row + " + (" + position + ") % " + c.OutW + " * " + column;
            }
            w.Line("nuint " + string.Join(", ", Enumerable.Range(0, block).Select(p => "start" + p + " = " + Start(p))) + ";");
            body();
        }
    }

    /// <summary>A constant times a size's text: the text alone for 1, both for more.</summary>
    private static string Times(long constant, string size) =>
        constant == 1 ? size : constant.ToString(System.Globalization.CultureInfo.InvariantCulture) + " * " + size;

    /// <summary>What a table kernel's loops index: the layer, its staged input, the group variable ("" for one group), the padded channel counts and the channels of the table's panels (<see cref="WeightOrder.TablePanel"/>; the group's slots for a table [tap][channel]).</summary>
    private sealed record TableGeometry(ConvLayer Conv, Staging Input, string Group, int GroupSlots, int Slots, int Block, int Panel)
    {
        /// <summary>Whether the table is panels of fewer channels than a group's, or one [tap][channel] table per group.</summary>
        public bool Panels => Panel < GroupSlots;
    }

    /// <summary>Vector g's channel in a pass of <paramref name="count"/> vectors, from the pass's first; the last may instead end at the group's last channel (<paramref name="lastAt"/> ≥ 0).</summary>
    private static int VectorOffset(VectorWidth v, int count, int g, int first, int lastAt) => g == count - 1 && lastAt >= 0 ? lastAt - first : g * v.Lanes;

    /// <summary>
    /// Declares <c>panel0</c>.. for a pass of <paramref name="count"/> channel vectors: where vector g's weights start
    /// in its group's table, the offset of its channel's panel plus the channel within it (its taps follow at a
    /// stride of the panel's width). A pointwise kernel's are written from its parameters; a window's from constants,
    /// and only where the table is panels (one [tap][channel] table indexes its channels directly).
    /// </summary>
    private static void WritePanelStarts(SourceWriter w, VectorWidth v, ShapeArguments a, TableGeometry t, int count, string chunk, int first, int lastAt, string? passStart = null)
    {
        if (!a.AsParameters && !t.Panels) return;
        var starts = new List<string>();
        // Decoding by pass, the table holds the pass's panels only, from the one at passStart.
        string Less(string start) => passStart is null ? start : start + " - " + passStart;
        for (int g = 0; g < count; g++)
        {
            string channel = VectorChannel(v, a, count, chunk, first, lastAt, g);
            if (a.AsParameters)
            {
                // The sizes are parameters: the general form, which for a table of one panel per group is the channel.
                string panel = a.Of("panel", t.Panel), stride = a.Of("panelStride", (long)t.Conv.TapsPerGroup * t.Panel);
                starts.Add("panel" + g + " = " + Less("(" + channel + ") / " + panel + " * " + stride + " + (" + channel + ") % " + panel));
            }
            else if (chunk.Length == 0)
            {
                long constant = first + VectorOffset(v, count, g, first, lastAt);
                starts.Add("panel" + g + " = " + Less((constant / t.Panel * t.Conv.TapsPerGroup * t.Panel + constant % t.Panel).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
            else
                starts.Add("panel" + g + " = " + Less("(" + channel + ") / " + t.Panel + " * " + (long)t.Conv.TapsPerGroup * t.Panel + " + (" + channel + ") % " + t.Panel));
        }
        w.Line("nuint " + string.Join(", ", starts) + ";");
    }

    /// <summary>The first output channel of vector g in a pass (within its group): after the loop's chunk, or the pass's first, or the vector ending at the group's last channel.</summary>
    private static string VectorChannel(VectorWidth v, ShapeArguments a, int count, string chunk, int first, int lastAt, int g)
    {
        if (a.AsParameters)
            return g == count - 1 && lastAt >= 0 ? a.Of("lastAt", lastAt) : IndexExpression.Plus(chunk.Length > 0 ? chunk : a.Of("tailFirst", first), (long)g * v.Lanes);
        long offset = first + VectorOffset(v, count, g, first, lastAt);
        return chunk.Length == 0 ? offset.ToString(System.Globalization.CultureInfo.InvariantCulture) : IndexExpression.Plus(chunk, offset);
    }

    /// <summary>
    /// Declares <c>position1</c>.. and <c>vector1</c>..: how far the block's other positions lie from its first
    /// (<c>start0</c>) in the input, and the pass's other weight vectors from its first (<c>panel0</c>) in the table,
    /// so a chunk's loop holds two references and reads everything else at these distances. Positions and channels
    /// ascend, so every distance is positive under checked arithmetic.
    /// </summary>
    private static void WriteDistances(SourceWriter w, int block, int vectors)
    {
        string[] distances = Enumerable.Range(1, block - 1).Select(p => "position" + p + " = start" + p + " - start0")
            .Concat(Enumerable.Range(1, vectors - 1).Select(g => "vector" + g + " = panel" + g + " - panel0")).ToArray();
        if (distances.Length > 0) w.Line("nuint " + string.Join(", ", distances) + ";");
    }

    /// <summary>
    /// The block of output positions to use of <paramref name="block"/> (the largest that fits the registers) or one
    /// fewer, whichever computes fewer positions: a map that is not whole blocks ends with a block overlapping the one
    /// before, computing its positions twice. A 7x7 map in blocks of 6 computes 54 positions for 49, in blocks of 5
    /// 50; one position fewer per block costs few loads per multiply-add (a broadcast per position either way), so
    /// the smaller block is taken where it saves at least <see cref="OverlapSaving"/> of the positions computed.
    /// </summary>
    internal static int LeastOverlap(int positions, int block)
    {
        if (block <= 4 || positions <= block) return block;
        long Computed(int b) => (positions + b - 1) / b * (long)b;
        return Computed(block - 1) <= Computed(block) * (1 - OverlapSaving) ? block - 1 : block;
    }

    /// <summary>The share of computed positions a smaller block must save (<see cref="LeastOverlap"/>).</summary>
    private const double OverlapSaving = 0.03;

    /// <summary>The most planes a staging interleaves position by position (<see cref="WriteStaging"/>); more are copied a plane at a time.</summary>
    private const int InterleavedChannels = 4;

    /// <summary>The general registers x64 gives a loop (16 less the stack and frame pointers).</summary>
    private const int GeneralRegisters = 14;

    /// <summary>The most output channels one pass covers: four vectors of the widest width.</summary>
    private const int MaxPassChannels = 4 * 16;

    /// <summary>
    /// Converts the codes of the panels a pass reads (the panels holding its channels, taps × 16 codes each, stored
    /// one after another) into <c>table</c> just before the pass, and declares <c>passStart</c>, where the first of them
    /// starts in the layer. The pass then reads a table of a few hundred kilobytes that its first block of positions
    /// brings into the cache for the rest, where converting the whole layer first wrote and read back up to the largest
    /// layer's table (9.4 MB for ResNet-50's last 3x3s) from memory. Each code is converted once a call, as before.
    /// </summary>
    private static void WritePassDecode(SourceWriter w, KernelContext k, VectorWidth v, ShapeArguments a, TableGeometry t, int count, string chunk, int first, int lastAt)
    {
        string start = VectorChannel(v, a, count, chunk, first, lastAt, 0), last = VectorChannel(v, a, count, chunk, first, lastAt, count - 1);
        string panel = a.Of("panel", t.Panel), stride = a.Of("panelStride", (long)t.Conv.TapsPerGroup * t.Panel);
        w.Line("// The codes of this pass's panels, converted into the table (given no codes, the table holds every panel).");
        w.Line("nuint passStart = 0;");
        using (w.Block("if (!w.IsEmpty)"))
        {
            w.Line("passStart = (" + start + ") / " + panel + " * " + stride + ";");
            w.Line("nuint passCodes = (" + IndexExpression.Plus(last, v.Lanes) + " + " + panel + " - 1) / " + panel + " * " + stride + " - passStart;");
            string bytes = k.Plan.BytesPerCode == 1 ? "" : " * " + k.Plan.BytesPerCode;
            if (!WeightOrder.PadsToPanels(t.Conv))
            {
                w.Line(k.DecodeCall("w.Slice((int)passStart" + bytes + ", (int)passCodes" + bytes + ")", "scaleFactor", "codeOffset", "table", "1", "(int)passCodes", "(int)passCodes", "0", "1") + ";");
                return;
            }
            // The last panel stores its 8 channels only ([tap][8]): its codes become rows of 16 with 8 zeros.
            int taps = t.Conv.TapsPerGroup, rest = t.Conv.OutChannels % WeightOrder.PanelChannels;
            string full = a.Of("fullCodes", (long)t.Conv.OutChannels / WeightOrder.PanelChannels * taps * WeightOrder.PanelChannels);
            w.Line("nuint wholeCodes = passStart + passCodes > " + full + " ? " + full + " - passStart : passCodes;");
            w.Line(k.DecodeCall("w.Slice((int)passStart" + bytes + ", (int)wholeCodes" + bytes + ")", "scaleFactor", "codeOffset", "table", "1", "(int)wholeCodes", "(int)wholeCodes", "0", "1") + ";");
            using (w.Block("if (wholeCodes < passCodes)"))
            {
                string runs = a.Of("taps", taps);
                w.Line(k.DecodeCall("w.Slice((int)" + full + bytes + ", (int)" + runs + " * " + rest + bytes + ")", "scaleFactor", "codeOffset", "table.Slice((int)wholeCodes)", "(int)" + runs, rest.ToString(System.Globalization.CultureInfo.InvariantCulture), WeightOrder.PanelChannels.ToString(System.Globalization.CultureInfo.InvariantCulture), "0", "1") + ";");
            }
        }
    }

    /// <summary>
    /// One chunk of <paramref name="count"/> channel vectors for a block of output positions, its first channel
    /// <paramref name="chunk"/> (a loop variable, or "") plus <paramref name="first"/>.
    /// </summary>
    private static void WriteTableChunk(SourceWriter w, Step step, VectorWidth v, ShapeArguments a, TableGeometry t, int count, string chunk, int first, QuantizedLayer? q, int lastAt = -1)
    {
        if (a.AsParameters)
        {
            WritePointwiseChunk(w, step, v, a, t, count, chunk, first, q, lastAt);
            return;
        }
        int Offset(int g) => VectorOffset(v, count, g, first, lastAt);
        ConvLayer c = t.Conv;
        Window win = c.Window;
        int cs = t.Input.ChannelStride, pw = t.Input.PaddedW, groupOut = c.OutChannels / c.Groups;
        using (w.Block("// output channels " + (chunk.Length > 0 ? chunk + " + " : "") + first + " to +" + (count * v.Lanes) + (c.Groups > 1 ? " of group g" : "") + ", " + t.Block + " position(s)"))
        {
            for (int p = 0; p < t.Block; p++)
                w.Line(string.Join(" ", Enumerable.Range(0, count).Select(g => v.Floats + " acc" + p + "_" + g + " = default;")));
            // The loads below take these distances as addressing modes, with each tap's constant offset; one
            // [tap][channel] table's vectors are constant offsets already.
            WriteDistances(w, t.Block, t.Panels ? count : 1);
            IDisposable? icLoop = c.GroupInChannels > 1 ? w.Block("for (nuint ic = 0; ic < " + c.GroupInChannels + "; ic++)") : null;
            string ic = c.GroupInChannels > 1 ? "ic" : "";
            // Small windows are unrolled whole (every tap's offsets constants); larger ones loop over their rows, and
            // over their columns too where one row is large, so a kernel stays small and within the size the JIT
            // optimizes fully.
            long work = (long)c.OutChannels * c.TapsPerGroup * c.OutH * c.OutW;
            int limit = work >= UnrolledLayerWork ? MaxUnrolledTaps : SmallLayerUnrolledTaps;
            bool unrolled = win.KernelH == 1 || win.Size * t.Block * count <= limit;
            bool rowUnrolled = win.KernelW == 1 || win.KernelW * t.Block * count <= limit;
            IDisposable? kyLoop = unrolled ? null : w.Block("for (nuint ky = 0; ky < " + win.KernelH + "; ky++)");
            IDisposable? kxLoop = rowUnrolled ? null : w.Block("for (nuint kx = 0; kx < " + win.KernelW + "; kx++)");
            string ky = unrolled ? "" : "ky", kxVariable = rowUnrolled ? "" : "kx";
            w.Line("nuint row = " + IndexExpression.Of(0, (ky, (long)win.DilationH * pw * cs), (kxVariable, (long)win.DilationW * cs), (t.Group, c.GroupInChannels), (ic, 1)) + ";");
            // A table of panels: the tap's offset within a panel, each vector's panel start added (panel0..); one
            // [tap][channel] table: the tap's row with the chunk's first channel, each vector's offset from it added.
            int rowStride = t.Panels ? t.Panel : t.GroupSlots;
            w.Line("nuint tap = " + IndexExpression.Of(t.Panels ? 0 : first, (t.Group, (long)c.TapsPerGroup * t.GroupSlots), (ic, (long)win.Size * rowStride), (ky, (long)win.KernelW * rowStride), (kxVariable, rowStride), (t.Panels ? "" : chunk, 1)) + ";");
            w.Line("ref float input = ref Unsafe.Add(ref pixels, start0 + row);");
            w.Line("ref float vectors = ref Unsafe.Add(ref weights, tap" + (t.Panels ? " + panel0" : "") + ");");
            for (int y = 0; y < (unrolled ? win.KernelH : 1); y++)
            for (int kx = 0; kx < (rowUnrolled ? win.KernelW : 1); kx++)
            using (w.Block("// " + (unrolled && win.KernelH > 1 ? "ky = " + y + ", " : "") + (rowUnrolled && win.KernelW > 1 ? "kx = " + kx + ": " : "") + "the weight vectors once, every position's input broadcast"))
            {
                int tapOffset = (y * win.KernelW + kx) * rowStride;
                long pixelOffset = ((long)y * win.DilationH * pw + (long)kx * win.DilationW) * cs;
                for (int g = 0; g < count; g++)
                {
                    // Vector g: its panel's distance, or (one [tap][channel] table) its constant offset in the tap's row.
                    string at = t.Panels && g > 0 ? IndexExpression.Plus("vector" + g, tapOffset) : (tapOffset + (t.Panels ? 0 : Offset(g))).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    w.Line(v.Floats + " w" + g + " = " + (at == "0" ? v.Type + ".LoadUnsafe(ref vectors)" : v.Load("vectors", at)) + ";");
                }
                for (int p = 0; p < t.Block; p++)
                {
                    string at = p == 0 ? pixelOffset.ToString(System.Globalization.CultureInfo.InvariantCulture) : IndexExpression.Plus("position" + p, pixelOffset);
                    w.Line("{ " + v.Floats + " pixel = " + v.Splat(at == "0" ? "input" : "Unsafe.Add(ref input, " + at + ")") + ";");
                    for (int g = 0; g < count; g++)
                        w.Line("  acc" + p + "_" + g + " = " + VectorWidth.MultiplyAdd("w" + g, "pixel", "acc" + p + "_" + g) + ";" + (g == count - 1 ? " }" : ""));
                }
            }
            kxLoop?.Dispose();
            kyLoop?.Dispose();
            icLoop?.Dispose();
            for (int g = 0; g < count; g++)
            {
                // Scales and biases are padded per group like the table, so group g's channels start at g · groupOut.
                string channel = IndexExpression.Of(first + Offset(g), (t.Group, groupOut), (chunk, 1));
                w.Line("{ " + (q is not null ? v.Floats + " scale = " + v.Load("scales", channel) + "; " : "") + v.Floats + " bias = " + v.Load("biases", channel) + ";");
                for (int p = 0; p < t.Block; p++)
                {
                    string at = IndexExpression.Of(p * t.Slots + first + Offset(g), ("at", t.Slots), (t.Group, groupOut), (chunk, 1));
                    w.Line("  " + v.Store(Result(step, v, q, "acc" + p + "_" + g, at), "result", at) + (p == t.Block - 1 ? " }" : ""));
                }
            }
        }
    }

    /// <summary>
    /// The value a table kernel stores from accumulator <paramref name="accumulator"/>: scaled (codes) and biased, the
    /// residual at the same index added (<see cref="Step.FusedAdd"/>), then the ReLU, in the order the unfused steps
    /// computed them.
    /// </summary>
    private static string Result(Step step, VectorWidth v, QuantizedLayer? q, string accumulator, string at)
    {
        string value = q is not null ? VectorWidth.MultiplyAdd(accumulator, "scale", "bias") : accumulator + " + bias";
        if (step.FusedAdd) value += " + " + v.Load("residual", at);
        return step.FusedRelu ? v.Type + ".Max(" + value + ", " + v.Zero + ")" : value;
    }

    /// <summary>
    /// <see cref="WriteTableChunk"/> for a pointwise convolution with its sizes as parameters: the input channels
    /// (<c>inChannels</c> per group), the table's and the output's channel strides (<c>groupSlots</c>, <c>slots</c>), a
    /// group's output channels (<c>groupOut</c>) and the first channel of the pass after the loop (<c>tailFirst</c>), or of
    /// the vector that ends at the group's last channel (<c>lastAt</c>).
    /// </summary>
    private static void WritePointwiseChunk(SourceWriter w, Step step, VectorWidth v, ShapeArguments a, TableGeometry t, int count, string chunk, int first, QuantizedLayer? q, int lastAt)
    {
        ConvLayer c = t.Conv;
        bool grouped = t.Group.Length > 0;
        string inChannels = a.Of("inChannels", c.GroupInChannels), groupSlots = a.Of("groupSlots", t.GroupSlots), slots = a.Of("slots", t.Slots);
        string groupOut = grouped ? a.Of("groupOut", c.OutChannels / c.Groups) : "";
        // Vector g's first channel within its group: after the loop's chunk, or the tail pass's first, or lastAt.
        string Channel(int g) => g == count - 1 && lastAt >= 0 ? a.Of("lastAt", lastAt) : IndexExpression.Plus(chunk.Length > 0 ? chunk : a.Of("tailFirst", first), (long)g * v.Lanes);
        string InGroup(string channel) => grouped ? "g * " + groupOut + " + " + channel : channel;
        using (w.Block("// " + count + " vector(s) of output channels" + (grouped ? " of group g" : "") + ", " + t.Block + " position(s)"))
        {
            for (int p = 0; p < t.Block; p++)
                w.Line(string.Join(" ", Enumerable.Range(0, count).Select(g => v.Floats + " acc" + p + "_" + g + " = default;")));
            // Two references walk the input channels: the block's first position's input and the pass's first weight
            // vector. The other positions and vectors sit at fixed distances from them, which the loads take as
            // addressing modes: per input channel the loop adds to two references and counts down, where indices
            // computed afresh cost an integer instruction per load, and those share the ports the multiply-adds use
            // (a quarter of the multiply-adds' time in SqueezeNet's and ResNet-50's 1x1 layers).
            string panel = a.Of("panel", t.Panel);
            w.Line("ref float input = ref Unsafe.Add(ref pixels, start0" + (grouped ? " + g * " + inChannels : "") + ");");
            w.Line("ref float vectors = ref Unsafe.Add(ref weights, " + (grouped ? "g * " + inChannels + " * " + groupSlots + " + " : "") + "panel0);");
            WriteDistances(w, t.Block, count);
            using (w.Block("for (nuint ic = " + inChannels + "; ic != 0; ic--)"))
            {
                for (int g = 0; g < count; g++)
                    w.Line(v.Floats + " w" + g + " = " + (g == 0 ? v.Type + ".LoadUnsafe(ref vectors)" : v.Load("vectors", "vector" + g)) + ";");
                for (int p = 0; p < t.Block; p++)
                {
                    w.Line("{ " + v.Floats + " pixel = " + v.Splat(p == 0 ? "input" : "Unsafe.Add(ref input, position" + p + ")") + ";");
                    for (int g = 0; g < count; g++)
                        w.Line("  acc" + p + "_" + g + " = " + VectorWidth.MultiplyAdd("w" + g, "pixel", "acc" + p + "_" + g) + ";" + (g == count - 1 ? " }" : ""));
                }
                w.Line("input = ref Unsafe.Add(ref input, 1);");
                w.Line("vectors = ref Unsafe.Add(ref vectors, " + panel + ");");
            }
            for (int g = 0; g < count; g++)
            {
                string channel = InGroup(Channel(g));
                w.Line("{ " + (q is not null ? v.Floats + " scale = " + v.Load("scales", channel) + "; " : "") + v.Floats + " bias = " + v.Load("biases", channel) + ";");
                for (int p = 0; p < t.Block; p++)
                {
                    string at = "(" + IndexExpression.Plus("at", p) + ") * " + slots + " + " + channel;
                    w.Line("  " + v.Store(Result(step, v, q, "acc" + p + "_" + g, at), "result", at) + (p == t.Block - 1 ? " }" : ""));
                }
            }
        }
    }

    /// <summary>
    /// A depthwise convolution: each channel convolved with its own window. The weights are a [tap][channel] table
    /// padded to whole vectors and the input channels-last, so a vector of channels at a time is multiplied
    /// element-wise with the same channels' inputs, with no broadcast.
    /// </summary>
    private static void WriteDepthwise(SourceWriter w, KernelContext k, Step step, ConvLayer c)
    {
        string method = step.Method;
        Window win = c.Window;
        QuantizedLayer? q = k.IsQuantized ? k.Quantized(c) : null;
        int slots = AssignLayouts.Slots(c.OutChannels), taps = win.Size;
        ValueInfo input = k.Value(step.Inputs[0]).Image();
        // Vectors of channels are loaded from the input, so it is staged with the padded slots unless it has them.
        Staging s = Stage(k, step, c, slots);
        ValueInfo output = k.Value(step.Output).Image();
        w.Line("/// <summary>" + Escape.XmlDoc(c.Name) + ": depthwise Conv " + Shape.Format(c.InputShape) + " -> " + Shape.Format(c.OutputShape) + ", kernel " + win
            + (step.FusedRelu ? ", ReLU fused in" : "") + "; channels-last with " + slots + " slots"
            + (step.InputShuffle > 0 ? "; its input read through a shuffle of its channels as " + step.InputShuffle + " x " + c.InChannels / step.InputShuffle : "") + ".</summary>");
        using (w.Kernel(Signature(k, step)))
        {
            w.Line(KernelContext.LengthCheck(k.IsQuantized ? new[] { ("w", (long)c.Weights.Length * k.Plan.BytesPerCode), ("x", (long)input.StoredLength), ("y", (long)output.StoredLength) } : new[] { ("x", (long)input.StoredLength), ("y", (long)output.StoredLength) }));
            WritePrologue(w, k, step, c, s, q, taps, c.OutChannels, slots, "tap-major", "[tap][channel]");
            WriteMultiplyAdds(w, k, step, s, q, Escape.XmlDoc(c.Name), () =>
            // The layer's sizes are parameters: layers of one window, stride and blocking share a method.
            VectorWidth.DispatchToMethods(w, k, method, Escape.XmlDoc(c.Name) + ": the multiply-adds", KernelParameters(q), (w, v, a) =>
            {
                // A small window is unrolled whole (every tap's offset a constant times the channel slots); a larger one
                // loops over its rows, and over its columns too where a row alone is large, so the method stays small and
                // within what the JIT optimizes fully (a 5x5 window unrolled for three vector widths was ~100 KB of C# per layer).
                int columns = Math.Max(1, Math.Min(ColumnBlock(v, c.OutW, 1, 1), 160 / win.KernelW));
                bool unrolled = win.KernelH == 1 || win.Size * columns <= MaxUnrolledDepthwiseTaps, rowUnrolled = win.KernelW == 1 || win.KernelW * columns <= MaxUnrolledDepthwiseTaps;
                string channels = a.Of("slots", slots);
                // Strides in floats: an input row, an output row.
                string inRow = a.Of("inRow", (long)s.PaddedW * slots), outRow = a.Of("outRow", (long)c.OutW * slots);
                WriteColumnBlocks(w, a, c.OutH, c.OutW, columns, () =>
                {
                    using (w.Block("for (nuint channel = 0; channel < " + channels + "; channel += " + v.Lanes + ")"))
                    {
                        w.Line(string.Join(" ", Enumerable.Range(0, columns).Select(p => v.Floats + " acc" + p + " = default;")));
                        IDisposable? kyLoop = unrolled ? null : w.Block("for (nuint ky = 0; ky < " + win.KernelH + "; ky++)");
                        IDisposable? kxLoop = rowUnrolled ? null : w.Block("for (nuint kx = 0; kx < " + win.KernelW + "; kx++)");
                        // The window's first input row and column: oy · strideH rows and ox · strideW columns in, each tap
                        // (ky, kx) a further ky · dilationH rows and kx · dilationW columns.
                        string windowRow = unrolled ? "" : " + ky * " + Times(win.DilationH, inRow);
                        string windowColumn = rowUnrolled ? "" : " + kx * " + Times(win.DilationW, channels);
                        for (int ky = 0; ky < (unrolled ? win.KernelH : 1); ky++)
                        {
                            w.Line("{ nuint row = oy * " + Times(win.StrideH, inRow) + (ky > 0 ? " + " + Times((long)ky * win.DilationH, inRow) : "") + windowRow
                                + " + ox * " + Times(win.StrideW, channels) + windowColumn + " + channel;");
                            for (int kx = 0; kx < (rowUnrolled ? win.KernelW : 1); kx++)
                            {
                                // The tap's row of the table: (ky · kernelW + kx) rows of slots in.
                                string tap = (unrolled ? (ky * win.KernelW).ToString(System.Globalization.CultureInfo.InvariantCulture) : "ky * " + win.KernelW) + " + " + (rowUnrolled ? kx.ToString(System.Globalization.CultureInfo.InvariantCulture) : "kx");
                                w.Line("  { " + v.Floats + " weight = " + v.Load("weights", "(" + tap + ") * " + channels + " + channel") + ";");
                                for (int p = 0; p < columns; p++)
                                {
                                    long step = (long)p * win.StrideW + (long)kx * win.DilationW;
                                    w.Line("    acc" + p + " = " + VectorWidth.MultiplyAdd("weight", v.Load("pixels", step == 0 ? "row" : "row + " + Times(step, channels)), "acc" + p) + ";" + (p == columns - 1 ? " }" : ""));
                                }
                            }
                            w.Line("}");
                        }
                        kxLoop?.Dispose();
                        kyLoop?.Dispose();
                        w.Line((q is not null ? v.Floats + " scale = " + v.Load("scales", "channel") + "; " : "") + v.Floats + " bias = " + v.Load("biases", "channel") + ";");
                        for (int p = 0; p < columns; p++)
                        {
                            string value = q is not null ? VectorWidth.MultiplyAdd("acc" + p, "scale", "bias") : "acc" + p + " + bias";
                            if (step.FusedRelu) value = v.Type + ".Max(" + value + ", " + v.Zero + ")";
                            w.Line(v.Store(value, "result", "oy * " + outRow + " + " + (p == 0 ? "ox" : "(ox + " + p + ")") + " * " + channels + " + channel"));
                        }
                    }
                });
            }, wide: slots % VectorWidth.V512.Lanes == 0, shapeParameters: true));
        }
        w.Line();
        k.WriteScratchFieldOnce(w, s.Field, s.Stages ? s.Length : 0, step.Splits);
        if (q is not null) w.Line("private static ReadOnlySpan<float> " + method + "_Scale => " + k.Data.FloatSpan(KernelContext.Pad(q.ChannelScales, slots)) + ";");
        else w.Line("private static ReadOnlySpan<float> " + method + "_Table => " + k.Data.FloatSpan(KernelContext.PaddedRuns(c.Weights, taps, c.OutChannels, slots, i => WeightOrder.StoredPosition(Kernel.ConvDepthwise, c, i))) + ";");
        w.Line("private static ReadOnlySpan<float> " + method + "_Bias => " + k.Data.FloatSpan(KernelContext.Pad(c.Bias, slots)) + ";");
        w.Line();
    }

    /// <summary>
    /// A grouped convolution whose groups are not whole vectors of channels, or a 3-D convolution: direct loops over
    /// planes, every tap bounds-tested. Correct for every shape; the table kernels cover the 2-D shapes networks use.
    /// </summary>
    private static void WriteDirect(SourceWriter w, KernelContext k, Step step, ConvLayer c)
    {
        string method = step.Method;
        Window win = c.Window;
        QuantizedLayer? q = k.IsQuantized ? k.Quantized(c) : null;
        int groupOut = c.OutChannels / c.Groups;
        bool volume = c.IsVolumetric;
        w.Line("/// <summary>" + Escape.XmlDoc(c.Name) + ": Conv " + Shape.Format(c.InputShape) + " -> " + Shape.Format(c.OutputShape) + ", kernel " + win
            + (c.Groups > 1 ? ", " + c.Groups + " groups" : "") + (step.FusedRelu ? ", ReLU fused in" : "") + "; direct loops over planes" + (volume ? " (3-D)" : "") + ".</summary>");
        using (w.Kernel(Signature(k, step)))
        {
            w.Line(q is not null ? k.CodeSpan() : "ReadOnlySpan<float> q = " + method + "_Weights;");
            if (q is not null) w.Line("ReadOnlySpan<float> scale = " + method + "_Scale;");
            w.Line("ReadOnlySpan<float> bias = " + method + "_Bias;");
            using (w.Block("for (int oc = 0; oc < " + c.OutChannels + "; oc++)"))
            using (volume ? w.Block("for (int oz = 0; oz < " + c.OutD + "; oz++)") : null)
            using (w.Block("for (int oy = 0; oy < " + c.OutH + "; oy++)"))
            using (w.Block("for (int ox = 0; ox < " + c.OutW + "; ox++)"))
            {
                w.Line("float sum = 0f;");
                if (q is not null) w.Line("float windowSum = 0f;   // for the mean-correction offset: every code is read shifted by codeOffset");
                using (w.Block("for (int ic = 0; ic < " + c.GroupInChannels + "; ic++)"))
                using (volume ? w.Block("for (int kz = 0; kz < " + win.KernelD + "; kz++)") : null)
                using (w.Block("for (int ky = 0; ky < " + win.KernelH + "; ky++)"))
                {
                    if (volume)
                    {
                        w.Line("int iz = oz * " + win.StrideD + " - " + win.PadFront + " + kz * " + win.DilationD + ";");
                        w.Line("if ((uint)iz >= " + c.InD + "u) continue;");
                    }
                    w.Line("int iy = oy * " + win.StrideH + " - " + win.PadTop + " + ky * " + win.DilationH + ";");
                    w.Line("if ((uint)iy >= " + c.InH + "u) continue;");
                    w.Line("int kernelRow = ((" + (volume ? "(oc * " + c.GroupInChannels + " + ic) * " + win.KernelD + " + kz" : "oc * " + c.GroupInChannels + " + ic") + ") * " + win.KernelH + " + ky) * " + win.KernelW + ";");
                    w.Line("int inputRow = ((" + (volume ? "(oc / " + groupOut + " * " + c.GroupInChannels + " + ic) * " + c.InD + " + iz" : "oc / " + groupOut + " * " + c.GroupInChannels + " + ic") + ") * " + c.InH + " + iy) * " + c.InW + ";");
                    using (w.Block("for (int kx = 0; kx < " + win.KernelW + "; kx++)"))
                    {
                        w.Line("int ix = ox * " + win.StrideW + " - " + win.PadLeft + " + kx * " + win.DilationW + ";");
                        w.Line("if ((uint)ix >= " + c.InW + "u) continue;");
                        w.Line("float v = x[inputRow + ix];");
                        w.Line("sum += " + (q is not null ? k.CodeRead("kernelRow + kx") : "q[kernelRow + kx]") + " * v;");
                        if (q is not null) w.Line("windowSum += v;");
                    }
                }
                string value = q is not null ? "scale[oc] * scaleFactor * (sum + codeOffset * windowSum) + bias[oc]" : "sum + bias[oc]";
                string at = volume ? "((oc * " + c.OutD + " + oz) * " + c.OutH + " + oy) * " + c.OutW + " + ox" : "(oc * " + c.OutH + " + oy) * " + c.OutW + " + ox";
                w.Line("y[" + at + "] = " + (step.FusedRelu ? "MathF.Max(0f, " + value + ")" : value) + ";");
            }
        }
        w.Line();
        if (q is not null) w.Line("private static ReadOnlySpan<float> " + method + "_Scale => " + k.Data.FloatSpan(q.ChannelScales) + ";");
        else w.Line("private static ReadOnlySpan<float> " + method + "_Weights => " + k.Data.FloatSpan(c.Weights) + ";");
        w.Line("private static ReadOnlySpan<float> " + method + "_Bias => " + k.Data.FloatSpan(c.Bias) + ";");
        w.Line();
    }
}
