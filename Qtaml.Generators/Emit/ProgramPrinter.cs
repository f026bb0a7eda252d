using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Emit.Kernels;
using Qtaml.Generators.Lowering;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Emit;

/// <summary>
/// Prints a <see cref="KernelProgram"/>: <c>Forward</c>, one call per step over fixed slices of one arena, then one
/// method per step from the kernel writers. Everything the printer decides was decided by the passes; it only
/// spells it out.
/// </summary>
internal static class ProgramPrinter
{
    public static void Write(SourceWriter w, KernelContext k, NetworkGraph graph)
    {
        KernelProgram program = k.Program;
        SharedKernels shared = ShareDenseKernels(k, graph, w.Indent);
        foreach (Step step in program.Steps)
        {
            if (step.Kernel == Kernel.Copy || step.IsConversion) continue;
            var call = step.Chain.Count > 0 ? FusedElementwiseKernels.Call(k, step, graph) : ElementwiseKernels.SharedCall(k, step, graph.Layers[step.Layer]);
            if (call is not null) k.SharedCalls[step] = call;
        }
        WriteForward(w, k, graph, shared);
        var weightIndex = WeightIndices(graph);
        var written = new HashSet<string>();
        foreach (Step step in program.Steps)
        {
            if (!written.Add(step.Method)) continue;   // a layout conversion of a shape met before
            WriteStep(w, k, graph, step, shared);
            w.WriteDeferred();   // the kernel's per-width bodies
        }
        // After the kernels, which record how each split step's table is converted.
        string LayerCodes(Step step)
        {
            int l = weightIndex[step.Layer];
            return "Codes.Span.Slice(" + k.Plan.LayerOffsets[l] + ", " + k.Plan.Layers[l].StoredCodes.Length * k.Plan.BytesPerCode + ")";
        }
        SplitWorkWriter.Write(w, program, k.IsQuantized, step =>
        {
            (int runs, int length, int padded) = k.SplitTables[step];
            // The table from its aligned start, where the step's kernel reads it (KernelContext.Aligned).
            string table = "global::Qtaml.Numerics.AlignedArrays.Span(_table!, " + ((long)runs * padded).ToString(System.Globalization.CultureInfo.InvariantCulture) + ")";
            return k.DecodeCall(LayerCodes(step), "_scaleFactor", "_codeOffset", table, runs, length, padded, "part", "parts");
        }, k.PassDecoding.Contains, LayerCodes);
        k.WriteWeightTableField(w);
        k.Helpers.WriteAll(w);
    }

    /// <summary>The expression for a value's storage as a step reads or writes it.</summary>
    private static string Storage(KernelProgram program, int value)
    {
        int root = program.Root(value);
        Placement place = program.Placements[root];
        return place.Buffer switch
        {
            Buffer.Input => InputName(place.Port),
            Buffer.Output => OutputName(place.Port),
            _ => "arena.Slice(" + place.Offset + ", " + program.Values[root].StoredLength + ")",
        };
    }

    /// <summary>Forward's parameter for graph input <paramref name="port"/>: input, input1, input2...</summary>
    public static string InputName(int port) => port == 0 ? "input" : "input" + port;

    public static string OutputName(int port) => port == 0 ? "output" : "output" + port;

    /// <summary>
    /// Steps per method: a longer program is split into parts Forward calls in turn, so no method grows with the
    /// network. The JIT stops optimizing a method above 60,000 bytes of IL (a step is 40-80) and its cost per method
    /// grows faster than its size; so does Roslyn's flow analysis.
    /// </summary>
    public const int StepsPerPart = 128;

    private static void WriteForward(SourceWriter w, KernelContext k, NetworkGraph graph, SharedKernels shared)
    {
        KernelProgram program = k.Program;
        var weightIndex = WeightIndices(graph);
        var parameters = new List<string>();
        var arguments = new List<string>();
        if (k.IsQuantized)
        {
            // The whole weight image, each step slicing its layer's codes at the layout's fixed offset, and each layer's
            // dequantization (scale factor, code offset): both from the image a Run was given.
            parameters.Add("ReadOnlySpan<byte> codes");
            parameters.Add("ReadOnlySpan<float> dequantization");
            arguments.Add("codes");
            arguments.Add("dequantization");
        }
        parameters.AddRange(program.InputValues.Select((_, port) => "ReadOnlySpan<float> " + InputName(port)));
        parameters.AddRange(program.OutputValues.Select((_, port) => "Span<float> " + OutputName(port)));
        arguments.AddRange(program.InputValues.Select((_, port) => InputName(port)));
        arguments.AddRange(program.OutputValues.Select((_, port) => OutputName(port)));
        bool splits = SplitWorkWriter.Splits(program);
        if (splits)
        {
            // The run's SplitWork when it was given a WorkerPool, else null: the steps that split then run on this thread alone.
            parameters.Add(SplitWorkWriter.ClassName + "? split");
            arguments.Add("split");
        }
        var parts = new List<List<Step>>();
        var all = program.Steps.ToList();
        for (int i = 0; i < all.Count; i += StepsPerPart) parts.Add(all.GetRange(i, System.Math.Min(StepsPerPart, all.Count - i)));
        bool split = parts.Count > 1;
        w.Line("/// <summary>");
        w.Line("/// The network as " + program.Steps.Count + " kernel steps" + (program.ArenaFloats > 0 ? " over one arena of " + program.ArenaFloats + " floats: each value has a fixed slice, reused once nothing reads it" : "")
            + (split ? "; in " + parts.Count + " parts of at most " + StepsPerPart + " steps, so no method grows with the network" : "") + ".");
        w.Line("/// </summary>");
        using (w.Block("private static void Forward(" + string.Join(", ", parameters) + ")"))
        {
            if (program.ArenaFloats > 0)
                w.Line("Span<float> arena = " + (splits ? "split is not null ? split.ArenaSpan : " : "") + (program.ArenaFloats <= KernelContext.StackFloats
                    ? "stackalloc float[" + program.ArenaFloats + "];"
                    : KernelContext.Aligned("s_arena", program.ArenaFloats.ToString(System.Globalization.CultureInfo.InvariantCulture)) + ";"));
            if (!split) WriteSteps(w, k, graph, shared, weightIndex, parts.Count == 0 ? new List<Step>() : parts[0]);
            else
            {
                var partArguments = program.ArenaFloats > 0 ? arguments.Append("arena") : arguments;
                for (int p = 0; p < parts.Count; p++) w.Line("ForwardPart" + (p + 1) + "(" + string.Join(", ", partArguments) + ");");
            }
        }
        if (program.ArenaFloats > KernelContext.StackFloats)
        {
            w.Line();
            w.Line("[ThreadStatic] private static float[]? s_arena;");
        }
        w.Line();
        if (!split) return;
        var partParameters = program.ArenaFloats > 0 ? parameters.Append("Span<float> arena") : parameters;
        for (int p = 0; p < parts.Count; p++)
        {
            w.Line("/// <summary>Steps " + (p * StepsPerPart + 1) + " to " + (p * StepsPerPart + parts[p].Count) + " of Forward.</summary>");
            using (w.Block("private static void ForwardPart" + (p + 1) + "(" + string.Join(", ", partParameters) + ")"))
                WriteSteps(w, k, graph, shared, weightIndex, parts[p]);
            w.Line();
        }
    }

    /// <summary>The calls of <paramref name="steps"/>, each under a comment naming its layer.</summary>
    private static void WriteSteps(SourceWriter w, KernelContext k, NetworkGraph graph, SharedKernels shared, Dictionary<int, int> weightIndex, List<Step> steps)
    {
        KernelProgram program = k.Program;
        foreach (Step step in steps)
        {
            string y = Storage(program, step.Output);
            string inputs = string.Join(", ", step.Inputs.Select(v => Storage(program, v)));
            if (step.Kernel == Kernel.Copy)
            {
                w.Line("// an output that no step writes in place: " + (program.Placements[program.Root(step.Inputs[0])].Buffer == Buffer.Input ? "a graph input returned as it is" : "a value another output also returns"));
                w.Line(step.Method + "(" + inputs + ", " + y + ");");
                continue;
            }
            if (step.IsConversion)
            {
                w.Line("// channels-last back to planes for the readers that need them");
                w.Line(step.Method + "(" + inputs + ", " + y + ");");
                continue;
            }
            Layer layer = graph.Layers[step.Layer];
            string reason = ChooseKernels.Reason(layer, step.Kernel);
            if (layer is BinaryLayer divide && ElementwiseKernels.AsComputed(divide) is { } computed && computed != divide)
                reason = "computed as a multiplication by " + Literals.Float(computed.Right.Constant![0]) + ", the divisor's reciprocal";
            if (step.Chain.Count > 0)
                w.Line("// " + string.Join(", ", step.Chain.Select(s => Escape.LineComment(graph.Layers[s.Layer].Name))) + ": " + string.Join(", ", step.Chain.Select(s => graph.Layers[s.Layer].Operator))
                    + " " + Shape.Format(layer.OutputShape) + ", fused: one pass over memory");
            else
                w.Line("// " + Escape.LineComment(layer.Name) + ": " + layer.Operator + " " + Shape.Format(layer.InputShape) + " -> " + Shape.Format(layer.OutputShape) + (step.FusedAdd ? ", plus the residual (its Add fused)" : "") + (step.FusedRelu ? ", ReLU fused" : "")
                    + (step.InputShuffle > 0 ? ", its input's channel shuffle done as it is staged" : "")
                    + (program.Values[step.Output].IsView ? ", stored from channel " + program.Values[step.Output].ChannelOffset + " of " + Escape.LineComment(graph.Layers[program.Values[step.Output].Within - 1].Name) + " (its Concat, written in place)" : "")
                    + (step.IsGuarded ? ", in the " + (step.GuardWhen ? "then" : "else") + " branch of an If" : "") + (reason.Length > 0 ? "; " + reason : ""));
            // A step of an If branch runs only when the condition picks its branch; the Where after the If reads the one that ran.
            using System.IDisposable? branch = step.IsGuarded ? w.Block("if (" + Storage(program, step.GuardValue) + "[0] " + (step.GuardWhen ? "!=" : "==") + " 0f)") : null;
            string codes = k.IsQuantized && layer is WeightLayer ? Codes(k, weightIndex[step.Layer]) : "";
            if (k.SharedCalls.TryGetValue(step, out var call))
            {
                w.Line(call(step.Inputs.Select(v => Storage(program, v)).ToList(), y) + ";");
                continue;
            }
            switch (layer)
            {
                case EmbeddingLayer { Indices: not null }:
                    w.Line(step.Method + "(" + (codes.Length > 0 ? codes + ", " : "") + y + ");");
                    break;
                case DenseLayer when step.Kernel == Kernel.DenseRow && k.IsQuantized:
                    w.Line(shared.Call(layer, step.Method, codes, inputs + ", " + y) + ";");
                    break;
                case ConvLayer or PoolLayer when Images(layer) > 1:
                {
                    // The kernel computes one image: it runs once per image, on that image's slices.
                    int images = Images(layer);
                    int inPer = k.Value(step.Inputs[0]).StoredLength / images, outPer = k.Value(step.Output).StoredLength / images;
                    using (w.Block("for (int image = 0; image < " + images + "; image++)"))
                        w.Line(step.Method + "(" + (codes.Length > 0 ? codes + ", " : "") + Storage(program, step.Inputs[0]) + ".Slice(image * " + inPer + ", " + inPer + "), "
                            + y + ".Slice(image * " + outPer + ", " + outPer + "));");
                    break;
                }
                default:
                    w.Line(step.Method + "(" + (codes.Length > 0 ? codes + ", " : "") + inputs + ", " + y + (step.Splits ? ", split" : "") + ");");
                    break;
            }
        }
    }

    /// <summary>The images a per-image layer (convolution, pooling) computes one after another.</summary>
    private static int Images(Layer layer) => layer switch { ConvLayer c => c.Images, PoolLayer p => p.Images, _ => 1 };

    /// <summary>A quantized kernel's first arguments: weight layer <paramref name="l"/>'s codes (its slice of the image, padding left out) and dequantization.</summary>
    private static string Codes(KernelContext k, int l) =>
        "codes.Slice(" + k.Plan.LayerOffsets[l] + ", " + k.Plan.Layers[l].StoredCodes.Length * k.Plan.BytesPerCode + "), dequantization[" + 2 * l + "], dequantization[" + (2 * l + 1) + "]";

    /// <summary>For each network layer with weights, its index among the weight layers (the weight image's layer).</summary>
    private static Dictionary<int, int> WeightIndices(NetworkGraph graph)
    {
        var result = new Dictionary<int, int>();
        for (int i = 0; i < graph.Layers.Length; i++)
            if (graph.Layers[i] is WeightLayer) result[i] = result.Count;
        return result;
    }

    private static void WriteStep(SourceWriter w, KernelContext k, NetworkGraph graph, Step step, SharedKernels shared)
    {
        if (step.Kernel == Kernel.Copy)
        {
            LayoutKernels.WriteCopy(w, step, k.Value(step.Inputs[0]));
            return;
        }
        if (step.IsConversion)
        {
            LayoutKernels.WriteToPlanes(w, step, k.Value(step.Inputs[0]));
            return;
        }
        if (step.Chain.Count > 0) return;   // a shared helper, its constants passed by the call
        if (k.SharedCalls.ContainsKey(step))
        {
            // Its helper is written once with the others; only its constants are its own.
            if (graph.Layers[step.Layer] is BinaryLayer binary) ElementwiseKernels.WriteBinaryData(w, k, step, binary);
            return;
        }
        switch (graph.Layers[step.Layer])
        {
            case ConvLayer c: ConvKernels.Write(w, k, step, c); break;
            case DenseLayer d when step.Kernel == Kernel.DenseRows: DenseKernels.WriteRows(w, k, d, step); break;
            case DenseLayer d when k.IsQuantized: WriteSharedDense(w, k, d, step, shared); break;
            case DenseLayer d: DenseKernels.WriteFloatRow(w, k, d, step); break;
            case PoolLayer p: PoolKernels.Write(w, k, step, p); break;
            case BinaryLayer b: ElementwiseKernels.WriteBinary(w, k, step, b); break;
            case SoftmaxLayer s: NormalizationKernels.WriteSoftmax(w, step, s); break;
            case LayerNormLayer n: NormalizationKernels.WriteLayerNorm(w, k, step, n); break;
            case MatMulLayer m: TensorKernels.WriteMatMul(w, step, m); break;
            case TransposeLayer t when k.Value(step.Output).Layout == Layout.ChannelsLast: TensorKernels.WriteChannelShuffle(w, k, step, t); break;
            case TransposeLayer t: TensorKernels.WriteTranspose(w, step, t); break;
            case ReduceLayer r: TensorKernels.WriteReduce(w, step, r); break;
            case ConcatLayer c: TensorKernels.WriteConcat(w, k, step, c); break;
            case EmbeddingLayer e: TensorKernels.WriteEmbedding(w, k, step, e); break;
            case AxisMapLayer m: AxisMapKernels.Write(w, k, step, m); break;
            case WhereLayer where: ElementwiseKernels.WriteWhere(w, k, step, where); break;
            case InstanceNormLayer n: AxisMapKernels.WriteInstanceNorm(w, k, step, n); break;
        }
    }

    /// <summary>A quantized one-row dense layer: its data, and the kernel of its shape if it is the first of that shape.</summary>
    private static void WriteSharedDense(SourceWriter w, KernelContext k, DenseLayer layer, Step step, SharedKernels shared)
    {
        if (shared.Writes(layer))
        {
            int users = shared.Users(layer);
            w.Line("/// <summary>" + Escape.XmlDoc(layer.Name) + ": " + layer.Operator + ", " + layer.InputCount + " inputs to " + layer.Outputs + " outputs" + (step.FusedRelu ? ", with the ReLU after it fused in" : "")
                + (users > 1 ? "; the kernel of all " + users + " dense layers of this shape" : "") + ".</summary>");
            w.Raw(shared.Text(layer).Replace(SharedKernels.Placeholder, step.Method));
            w.Line();
        }
        w.Line("private static ReadOnlySpan<float> " + step.Method + "_Scale => " + k.Data.FloatSpan(k.Quantized(layer).ChannelScales) + ";");
        w.Line("private static ReadOnlySpan<float> " + step.Method + "_Bias => " + k.Data.FloatSpan(layer.Bias) + ";");
        w.Line();
    }

    /// <summary>Renders the kernel of every quantized one-row dense layer, so equal kernels are written once (see <see cref="SharedKernels"/>).</summary>
    private static SharedKernels ShareDenseKernels(KernelContext k, NetworkGraph graph, int indent)
    {
        SharedKernels shared = k.Kernels;
        if (!k.IsQuantized) return shared;
        foreach (Step step in k.Program.Steps)
        {
            if (step.IsConversion || step.Kernel != Kernel.DenseRow || graph.Layers[step.Layer] is not DenseLayer dense) continue;
            var kernel = new SourceWriter(indent);
            DenseKernels.WriteQuantizedRow(kernel, k, dense, SharedKernels.Placeholder, step.FusedRelu);
            shared.Add(dense, step.Method, kernel.ToString());
        }
        return shared;
    }
}
