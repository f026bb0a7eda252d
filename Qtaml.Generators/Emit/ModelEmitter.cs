using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Qtaml.Generators.Model;
using Qtaml.Generators.Network;
using Qtaml.Generators.Planning;

namespace Qtaml.Generators.Emit;

/// <summary>
/// Writes the C# for a planned model: one method per layer with constant shapes, weights baked as one
/// string literal of packed bytes, and a header that explains the specialization.
/// </summary>
internal static partial class ModelEmitter
{
    /// <summary>Activations up to this many floats live on the stack; larger ones in per-thread buffers.</summary>
    private const int StackFloats = 32 * 1024;

    public static string Emit(ModelRequest request, string modelPath, ModelPlan plan, string generatorVersion)
    {
        var w = new SourceWriter();
        WriteHeader(w, modelPath, plan);
        w.Line("#nullable enable");
        w.Line();
        if (request.Namespace is not null) w.Line("namespace " + request.Namespace + ";").Line();

        w.Line("/// <summary>");
        w.Line("/// " + Xml(modelPath) + " compiled by Qtaml for " + Xml(plan.NodeLabel) + (plan.IsQuantized ? ", " + plan.Bits + "-bit weights with TAC." : ", unquantized reference build."));
        w.Line("/// </summary>");
        w.Line("[global::System.CodeDom.Compiler.GeneratedCode(\"Qtaml.Generators\", \"" + generatorVersion + "\")]");
        using (w.Block((request.IsStatic ? "static partial class " + request.ClassName : "partial class " + request.ClassName + " : global::Qtaml.ICompiledModel")))
        {
            if (request.IsStatic) WriteInterfaceAdapter(w, request);
            WriteMembers(w, request, modelPath, plan);
            Layer[] layers = plan.Graph.Layers;
            if (UsesChainEmitter(plan.Graph))
            {
                int[] strides = ChannelStrides(plan);
                WriteForward(w, plan, strides);
                for (int index = 0; index < layers.Length; index++)
                    if (!IsFusedRelu(layers, index)) WriteLayer(w, plan, layers[index], index, ReluFusedAfter(layers, index), index == 0 ? 0 : strides[index - 1], strides[index]);
                var conversions = new HashSet<string>();
                for (int index = 0; index <= layers.Length; index++)
                    if (EndsChannelsLastRun(strides, index) && conversions.Add(PlanesMethodName(layers[index - 1], strides[index - 1])))
                        WriteToPlanes(w, layers[index - 1], strides[index - 1]);
            }
            else
            {
                WriteGraphForward(w, plan);
                for (int index = 0; index < layers.Length; index++)
                    if (!WriteGraphLayer(w, plan, layers[index], MethodName(layers[index], index))) WriteLayer(w, plan, layers[index], index, relu: false);
            }
        }
        return w.ToString();
    }

    /// <summary>
    /// The chain emitter (two ping-pong buffers, fused ReLU, channels-last convolutions) writes the operators of a
    /// dense or convolutional stack applied once per input. Any other network, a chain of other operators among
    /// them, goes through the graph emitter, which writes every operator.
    /// </summary>
    private static bool UsesChainEmitter(NetworkGraph graph) => graph.IsChain && graph.Layers.All(layer => layer switch
    {
        DenseLayer dense => dense.Rows == 1,
        ConvLayer or PoolLayer or ReluLayer or SoftmaxLayer or ReshapeLayer => true,
        _ => false,
    });

    /// <summary>
    /// A static class cannot implement an interface, so a static model gets a nested type that does, for code
    /// that is generic over models (<c>where T : ICompiledModel</c>).
    /// </summary>
    private static void WriteInterfaceAdapter(SourceWriter w, ModelRequest request)
    {
        w.Line("/// <summary>" + request.ClassName + " as an <see cref=\"global::Qtaml.ICompiledModel\"/>, for code generic over models.</summary>");
        using (w.Block("public sealed class Compiled : global::Qtaml.ICompiledModel"))
        {
            w.Line("private Compiled() { }");
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Line("public static int InputLength => " + request.ClassName + ".InputLength;");
            w.Line("/// <inheritdoc/>");
            w.Line("public static int OutputLength => " + request.ClassName + ".OutputLength;");
            w.Line("/// <inheritdoc/>");
            w.Line("public static global::Qtaml.ModelInfo Info => " + request.ClassName + ".Info;");
            w.Line("/// <inheritdoc/>");
            w.Line("public static void Run(global::System.ReadOnlySpan<float> input, global::System.Span<float> output) => " + request.ClassName + ".Run(input, output);");
            w.Line("/// <inheritdoc/>");
            w.Line("public static void Run(global::Qtaml.Faults.WeightImage weights, global::System.ReadOnlySpan<float> input, global::System.Span<float> output) => " + request.ClassName + ".Run(weights, input, output);");
            w.Line("/// <inheritdoc/>");
            w.Line("public static global::Qtaml.Faults.WeightImage CreateWeightImage() => " + request.ClassName + ".CreateWeightImage();");
        }
        w.Line();
    }

    private static void WriteHeader(SourceWriter w, string modelPath, ModelPlan plan)
    {
        w.Line("// <auto-generated/>");
        w.Line("// Qtaml: " + modelPath + " for node " + plan.NodeLabel + ".");
        w.Line("//   p10 = " + G(plan.Flips.P10) + " (a stored 1 reads 0), p01 = " + G(plan.Flips.P01) + " (a stored 0 reads 1), per bit per retention window.");
        if (!plan.IsQuantized)
        {
            w.Line("//   Unquantized reference build (Quantize = false): float weights, no fault model, no protection.");
            return;
        }
        w.Line("//   " + plan.Bits + "-bit symmetric per-channel quantization; ECC budget " + G(plan.Budget) + " protected bits per weight.");
        w.Line("//   Protection plan (" + plan.Protection!.Allocator switch
        {
            Qtaml.Tac.Allocator.Tac => "TAC, exact optimum of the predicted distortion within the budget",
            Qtaml.Tac.Allocator.UniformMsp => "Uniform-MSP baseline: the same top planes in every layer",
            Qtaml.Tac.Allocator.MagnitudeBased => "magnitude-based baseline: layers ranked by their largest weight",
            _ => "no protection",
        } + "):");
        foreach (QuantizedLayer q in plan.Layers)
            w.Line("//     " + q.Layer.Name + " (" + q.Layer.Operator + ", " + q.Layer.Weights.Length + " weights): top " + q.ProtectedPlanes + " of " + plan.Bits
                + " bit-planes protected, sensitivity G = " + G(q.Sensitivity)
                + (q.ProtectedPlanes == 0 ? ", mean drift folded into the dequantization scale" : ", worst-case mean residual " + G(q.ResidualBound) + " codes"));
        w.Line("//   Sensitivities computed for inputs of mean square E[x²] = " + G(plan.InputMeanSquare) + (plan.InputMeanSquare == 1 ? " (the default; set InputMeanSquare to the real inputs')." : " (InputMeanSquare)."));
        w.Line("//   Predicted distortion D = " + G(plan.Protection!.PredictedDistortion) + "; quantization noise floor D_q = " + G(plan.Saturation!.NoiseFloor) + ".");
        w.Line("//   To reach D_q: TAC needs " + F3(plan.Saturation.TacBudget) + " bits/weight, Uniform-MSP " + F3(plan.Saturation.UniformMspBudget) + "; rho* = " + F3(plan.Saturation.Rho) + ".");
    }

    private static void WriteMembers(SourceWriter w, ModelRequest request, string modelPath, ModelPlan plan)
    {
        NetworkGraph graph = plan.Graph;
        w.Line("/// <summary>The number of input values: shape " + Shape.Format(graph.InputShape) + ", batch 1.</summary>");
        w.Line("public static int InputLength => " + graph.InputLength + ";");
        w.Line();
        w.Line("/// <summary>The number of output values.</summary>");
        w.Line("public static int OutputLength => " + graph.OutputLength + ";");
        w.Line();
        w.Line("/// <summary>What was compiled, for which node, with which protection.</summary>");
        w.Line("public static global::Qtaml.ModelInfo Info { get; } = new global::Qtaml.ModelInfo(");
        w.Line("    " + Literals.String(modelPath) + ", " + Literals.String(plan.NodeLabel) + ", " + plan.Bits + ", " + Literals.Double(plan.Flips.P10) + ", " + Literals.Double(plan.Flips.P01) + ", " + Literals.Double(plan.Budget) + ",");
        if (plan.IsQuantized)
            w.Line("    " + Literals.Double(plan.Protection!.PredictedDistortion) + ", " + Literals.Double(plan.Saturation!.NoiseFloor) + ", " + Literals.Double(plan.Saturation.Rho) + ", "
                + Literals.Double(plan.Saturation.TacBudget) + ", " + Literals.Double(plan.Saturation.UniformMspBudget) + ",");
        else
            w.Line("    0d, 0d, 1d, 0d, 0d,");
        w.Line("    new global::Qtaml.LayerInfo[]");
        w.Line("    {");
        foreach (QuantizedLayer q in plan.Layers)
            w.Line("        new global::Qtaml.LayerInfo(" + Literals.String(q.Layer.Name) + ", " + Literals.String(q.Layer.Operator) + ", " + q.Layer.Weights.Length + ", " + q.ProtectedPlanes + ", " + Literals.Double(q.Sensitivity) + "),");
        w.Line("    },");
        w.Line("    " + Literals.String(plan.Protection?.Allocator.ToString() ?? "None") + ");");
        w.Line();

        string layerArgs = string.Join(", ", plan.Layers.Select((_, l) => "Weights.Slice(" + plan.LayerOffsets[l] + ", " + LayerBytes(plan, l) + ")"));
        string imageArgs = string.Join(", ", plan.Layers.Select((_, l) => "weights.LayerBytes(" + l + ")"));

        w.Line("/// <summary>Runs the network over the baked weights. Allocates nothing.</summary>");
        using (w.Block("public static void Run(global::System.ReadOnlySpan<float> input, global::System.Span<float> output)"))
        {
            WriteLengthChecks(w);
            w.Line(plan.IsQuantized ? "Forward(" + layerArgs + (plan.Layers.Length > 0 ? ", " : "") + "input, output);" : "Forward(input, output);");
        }
        w.Line();
        w.Line("/// <summary>Runs the network over the stored bits in <paramref name=\"weights\"/>, faulted or not. Allocates nothing.</summary>");
        using (w.Block("public static void Run(global::Qtaml.Faults.WeightImage weights, global::System.ReadOnlySpan<float> input, global::System.Span<float> output)"))
        {
            w.Line("if (weights is null) throw new global::System.ArgumentNullException(nameof(weights));");
            if (!plan.IsQuantized)
            {
                w.Line("throw new global::System.NotSupportedException(\"This is an unquantized reference build (Quantize = false): it stores no weight codes to fault. Remove Quantize = false.\");");
            }
            else
            {
                w.Line("if (!weights.HasSameLayout(Layout))");
                w.Line("    throw new global::System.ArgumentException(\"The weight image does not have this model's layout; make it with " + request.ClassName + ".CreateWeightImage().\", nameof(weights));");
                WriteLengthChecks(w);
                w.Line("Forward(" + imageArgs + (plan.Layers.Length > 0 ? ", " : "") + "input, output);");
            }
        }
        w.Line();
        w.Line("/// <summary>The index of the largest output: the predicted class.</summary>");
        using (w.Block("public static int Predict(global::System.ReadOnlySpan<float> input)"))
        {
            w.Line("global::System.Span<float> scores = stackalloc float[" + graph.OutputLength + "];");
            w.Line("Run(input, scores);");
            w.Line("int best = 0;");
            w.Line("for (int i = 1; i < scores.Length; i++) if (scores[i] > scores[best]) best = i;");
            w.Line("return best;");
        }
        w.Line();
        w.Line("/// <summary>A mutable copy of the stored weight bits, for fault injection.</summary>");
        if (plan.IsQuantized)
        {
            w.Line("public static global::Qtaml.Faults.WeightImage CreateWeightImage() => Layout.Clone();");
            w.Line();
            w.Line("private static readonly global::Qtaml.Faults.WeightImage Layout = global::Qtaml.Faults.WeightImage.FromBytes(" + plan.Bits + ",");
            w.Line("    new string[] { " + string.Join(", ", plan.Layers.Select(q => Literals.String(q.Layer.Name))) + " },");
            w.Line("    new int[] { " + string.Join(", ", plan.Layers.Select(q => q.StoredCodes.Length.ToString(CultureInfo.InvariantCulture))) + " },");
            w.Line("    Weights);");
            w.Line();
            w.Line("/// <summary>The stored codes of every layer, " + plan.Image.Length + " bytes packed two per char, laid out as a WeightImage.</summary>");
            w.Line("private static global::System.ReadOnlySpan<byte> Weights => global::System.Runtime.InteropServices.MemoryMarshal.AsBytes(global::System.MemoryExtensions.AsSpan(WeightData));");
            w.Line();
            w.Line("private const string WeightData = " + Literals.PackedBytes(plan.Image) + ";");
        }
        else
        {
            w.Line("public static global::Qtaml.Faults.WeightImage CreateWeightImage() =>");
            w.Line("    throw new global::System.NotSupportedException(\"This is an unquantized reference build (Quantize = false): it stores no weight codes to fault. Remove Quantize = false.\");");
        }
        w.Line();
    }

    private static void WriteLengthChecks(SourceWriter w)
    {
        w.Line("if (input.Length != InputLength) throw new global::System.ArgumentException($\"The input must hold {InputLength} values; it holds {input.Length}.\", nameof(input));");
        w.Line("if (output.Length != OutputLength) throw new global::System.ArgumentException($\"The output must hold {OutputLength} values; it holds {output.Length}.\", nameof(output));");
    }

    private static int LayerBytes(ModelPlan plan, int layer) => plan.Layers[layer].StoredCodes.Length * plan.BytesPerCode;

    private static void WriteForward(SourceWriter w, ModelPlan plan, int[] strides)
    {
        Layer[] layers = plan.Graph.Layers;
        int largest = Math.Max(plan.Graph.InputLength, layers.Length == 0 ? 0 : layers.Select((l, i) => Math.Max(l.OutputLength, StoredLength(l, strides[i]))).Max());
        var parameters = plan.IsQuantized ? plan.Layers.Select((_, l) => "global::System.ReadOnlySpan<byte> w" + l).ToList() : new List<string>();
        parameters.Add("global::System.ReadOnlySpan<float> input");
        parameters.Add("global::System.Span<float> output");

        w.Line("/// <summary>The layers in order, ping-ponging between two activation buffers.</summary>");
        using (w.Block("private static void Forward(" + string.Join(", ", parameters) + ")"))
        {
            if (largest <= StackFloats)
            {
                w.Line("global::System.Span<float> a = stackalloc float[" + largest + "];");
                w.Line("global::System.Span<float> b = stackalloc float[" + largest + "];");
            }
            else
            {
                w.Line("global::System.Span<float> a = s_bufferA ??= new float[" + largest + "];");
                w.Line("global::System.Span<float> b = s_bufferB ??= new float[" + largest + "];");
            }
            w.Line("scoped global::System.ReadOnlySpan<float> x = input;");
            w.Line("bool intoA = true;");
            int weightIndex = 0;
            for (int i = 0; i < layers.Length; i++)
            {
                Layer layer = layers[i];
                string method = MethodName(layer, i);
                string target = "global::System.Span<float> y = intoA ? a.Slice(0, " + StoredLength(layer, strides[i]) + ") : b.Slice(0, " + StoredLength(layer, strides[i]) + "); ";
                if (EndsChannelsLastRun(strides, i)) WritePlanesStep(w, layers[i - 1], strides[i - 1]);
                switch (layer)
                {
                    case ReshapeLayer:
                        w.Line("// " + layer.Name + ": " + layer.Operator + " " + Shape.Format(layer.InputShape) + " -> " + Shape.Format(layer.OutputShape) + " keeps the row-major data as it is.");
                        break;
                    case ReluLayer when IsFusedRelu(layers, i):
                        w.Line("// " + layer.Name + ": ReLU, fused into the layer before.");
                        break;
                    case ReluLayer:
                        w.Line("{ " + target + "x.CopyTo(y); " + method + "(y); x = y; intoA = !intoA; }");
                        break;
                    case WeightLayer:
                        w.Line("{ " + target + method + "(" + (plan.IsQuantized ? "w" + weightIndex + ", " : "") + "x, y); x = y; intoA = !intoA; }");
                        weightIndex++;
                        break;
                    default:
                        w.Line("{ " + target + method + "(x, y); x = y; intoA = !intoA; }");
                        break;
                }
            }
            if (EndsChannelsLastRun(strides, layers.Length)) WritePlanesStep(w, layers[layers.Length - 1], strides[layers.Length - 1]);
            w.Line("x.CopyTo(output);");
        }
        if (largest > StackFloats)
        {
            w.Line();
            w.Line("[global::System.ThreadStatic] private static float[]? s_bufferA;");
            w.Line("[global::System.ThreadStatic] private static float[]? s_bufferB;");
        }
        w.Line();
    }

    /// <summary>The forward step that ends a channels-last run: the value back in channel-major planes.</summary>
    private static void WritePlanesStep(SourceWriter w, Layer producer, int stride)
    {
        w.Line("// Channels-last (" + stride + " channel slots) back to the channel-major layout of the ONNX graph.");
        w.Line("{ global::System.Span<float> y = intoA ? a.Slice(0, " + producer.OutputLength + ") : b.Slice(0, " + producer.OutputLength + "); " + PlanesMethodName(producer, stride) + "(x, y); x = y; intoA = !intoA; }");
    }

    private static string MethodName(Layer layer, int index) => "Layer" + index + "_" + layer.Operator;

    /// <summary>A ReLU right after a Conv or dense layer is applied as that layer stores its outputs.</summary>
    private static bool ReluFusedAfter(Layer[] layers, int index) => index + 1 < layers.Length && layers[index] is WeightLayer && layers[index + 1] is ReluLayer;

    private static bool IsFusedRelu(Layer[] layers, int index) => index > 0 && ReluFusedAfter(layers, index - 1);

    /// <summary>The value an output is stored as: clamped at zero where a ReLU is fused in.</summary>
    private static string Store(string value, bool relu) => relu ? "global::System.MathF.Max(0f, " + value + ")" : value;

    /// <param name="inStride">The channel stride of the layer's input when it is channels-last, 0 when channel-major.</param>
    /// <param name="outStride">The channel stride of its output when it is channels-last, 0 when channel-major.</param>
    private static void WriteLayer(SourceWriter w, ModelPlan plan, Layer layer, int index, bool relu, int inStride = 0, int outStride = 0)
    {
        string method = MethodName(layer, index);
        switch (layer)
        {
            case DenseLayer dense: WriteDense(w, plan, dense, method, relu); break;
            case ConvLayer conv: WriteConv(w, plan, conv, method, relu, inStride, outStride); break;
            case PoolLayer pool when outStride > 0: WriteChannelsLastPool(w, pool, method, outStride); break;
            case PoolLayer pool: WritePool(w, pool, method); break;
            case ReluLayer:
                w.Line("/// <summary>" + Xml(layer.Name) + ": max(x, 0) in place.</summary>");
                w.Line("private static void " + method + "(global::System.Span<float> x) { for (int i = 0; i < x.Length; i++) if (x[i] < 0f) x[i] = 0f; }");
                w.Line();
                break;
            case SoftmaxLayer softmax:
                WriteRowSoftmax(w, softmax, method);
                w.Line();
                break;
        }
    }

    private static QuantizedLayer Quantized(ModelPlan plan, WeightLayer layer) => plan.Layers.First(q => ReferenceEquals(q.Layer, layer));

    /// <summary>The expression that reads code i of a layer's bytes as an int, sign-extended from b bits.</summary>
    private static string CodeRead(ModelPlan plan, string index)
    {
        if (plan.Bits is 8 or 16) return "q[" + index + "]";   // sbyte or short spans: already signed
        int shift = (plan.Bits <= 8 ? 8 : 16) - plan.Bits;
        return plan.Bits <= 8 ? "((sbyte)(q[" + index + "] << " + shift + ") >> " + shift + ")" : "((short)(q[" + index + "] << " + shift + ") >> " + shift + ")";
    }

    private static string CodeSpan(ModelPlan plan) => plan.Bits switch
    {
        8 => "global::System.ReadOnlySpan<sbyte> q = global::System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(w);",
        16 => "global::System.ReadOnlySpan<short> q = global::System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(w);",
        < 8 => "global::System.ReadOnlySpan<byte> q = w;",
        _ => "global::System.ReadOnlySpan<ushort> q = global::System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(w);",
    };

    private static void WriteDense(SourceWriter w, ModelPlan plan, DenseLayer layer, string method, bool relu)
    {
        w.Line("/// <summary>" + Xml(layer.Name) + ": " + layer.Operator + ", " + layer.InputCount + " inputs to " + layer.Outputs + " outputs" + (relu ? ", with the ReLU after it fused in" : "") + ".</summary>");
        if (!plan.IsQuantized)
        {
            using (w.Block("private static void " + method + "(global::System.ReadOnlySpan<float> x, global::System.Span<float> y)"))
            {
                w.Line("global::System.ReadOnlySpan<float> weights = " + method + "_Weights;");
                w.Line("global::System.ReadOnlySpan<float> bias = " + method + "_Bias;");
                using (w.Block("for (int o = 0; o < " + layer.Outputs + "; o++)"))
                {
                    w.Line("global::System.ReadOnlySpan<float> row = weights.Slice(o * " + layer.InputCount + ", " + layer.InputCount + ");");
                    w.Line("float sum = 0f;");
                    w.Line("for (int i = 0; i < " + layer.InputCount + "; i++) sum += row[i] * x[i];");
                    w.Line("y[o] = " + Store("sum + bias[o]", relu) + ";");
                }
            }
            w.Line();
            w.Line("private static global::System.ReadOnlySpan<float> " + method + "_Weights => " + Literals.FloatArray(layer.Weights) + ";");
            w.Line("private static global::System.ReadOnlySpan<float> " + method + "_Bias => " + Literals.FloatArray(layer.Bias) + ";");
            w.Line();
            return;
        }
        QuantizedLayer q = Quantized(plan, layer);
        bool offset = q.CodeOffset != 0;
        bool vectorized = plan.Bits <= 8;
        using (w.Block("private static void " + method + "(global::System.ReadOnlySpan<byte> w, global::System.ReadOnlySpan<float> x, global::System.Span<float> y)"))
        {
            w.Line(CodeSpan(plan));
            w.Line("global::System.ReadOnlySpan<float> scale = " + method + "_Scale;");
            w.Line("global::System.ReadOnlySpan<float> bias = " + method + "_Bias;");
            if (offset)
            {
                w.Line("// Mean correction: every read code is shifted by p01, so each output gains p01 times the input's sum.");
                w.Line("float inputSum = 0f;");
                w.Line("for (int i = 0; i < " + layer.InputCount + "; i++) inputSum += x[i];");
            }
            if (vectorized)
            {
                w.Line("if (w.Length < " + ((long)layer.InputCount * layer.Outputs) + " || x.Length < " + layer.InputCount + " || y.Length < " + layer.Outputs + ") throw new global::System.ArgumentException(\"A layer buffer is too short.\");");
                if (layer.InputCount >= 16)
                {
                    w.Line("ref byte codes = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(w);");
                    w.Line("ref float input = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(x);");
                }
            }
            if (vectorized && layer.InputCount >= 16)
            {
                using (w.Block("if (global::System.Runtime.Intrinsics.X86.Avx512F.IsSupported)"))
                    WriteDenseRowGroups(w, plan, layer, q, relu);
                using (w.Block("else"))
                    WriteDenseRows(w, plan, layer, q, relu, vectorized);
            }
            else
            {
                WriteDenseRows(w, plan, layer, q, relu, vectorized);
            }
        }
        w.Line();
        w.Line("private static global::System.ReadOnlySpan<float> " + method + "_Scale => " + Literals.FloatArray(q.ChannelScales) + ";");
        w.Line("private static global::System.ReadOnlySpan<float> " + method + "_Bias => " + Literals.FloatArray(layer.Bias) + ";");
        w.Line();
    }

    /// <summary>The portable dense kernel: one output at a time, 32 codes per step widened to floats, four accumulators.</summary>
    private static void WriteDenseRows(SourceWriter w, ModelPlan plan, DenseLayer layer, QuantizedLayer q, bool relu, bool vectorized)
    {
        if (vectorized && layer.InputCount >= 32) w.Line("// 32 codes at a time: widen them to floats and multiply-add with the input, four accumulators.");
        using (w.Block("for (int o = 0; o < " + layer.Outputs + "; o++)"))
        {
            w.Line("int start = o * " + layer.InputCount + ";");
            w.Line("float sum = 0f;");
            w.Line("int i = 0;");
            if (vectorized && layer.InputCount >= 32)
            {
                w.Line("global::System.Runtime.Intrinsics.Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;");
                using (w.Block("for (; i <= " + (layer.InputCount - 32) + "; i += 32)"))
                {
                    w.Line("global::System.Runtime.Intrinsics.Vector256<sbyte> c = global::System.Runtime.Intrinsics.Vector256.AsSByte(global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref codes, (nuint)(start + i)));");
                    if (plan.Bits < 8)
                        w.Line("c = global::System.Runtime.Intrinsics.Vector256.ShiftRightArithmetic(global::System.Runtime.Intrinsics.Vector256.ShiftLeft(c, " + (8 - plan.Bits) + "), " + (8 - plan.Bits) + ");   // sign-extend b-bit codes");
                    w.Line("(global::System.Runtime.Intrinsics.Vector256<short> low, global::System.Runtime.Intrinsics.Vector256<short> high) = global::System.Runtime.Intrinsics.Vector256.Widen(c);");
                    w.Line("(global::System.Runtime.Intrinsics.Vector256<int> c0, global::System.Runtime.Intrinsics.Vector256<int> c1) = global::System.Runtime.Intrinsics.Vector256.Widen(low);");
                    w.Line("(global::System.Runtime.Intrinsics.Vector256<int> c2, global::System.Runtime.Intrinsics.Vector256<int> c3) = global::System.Runtime.Intrinsics.Vector256.Widen(high);");
                    for (int k = 0; k < 4; k++)
                        w.Line("acc" + k + " = global::System.Runtime.Intrinsics.Vector256.FusedMultiplyAdd(global::System.Runtime.Intrinsics.Vector256.ConvertToSingle(c" + k + "), global::System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref input, (nuint)(i + " + (8 * k) + ")), acc" + k + ");");
                }
                w.Line("sum = global::System.Runtime.Intrinsics.Vector256.Sum((acc0 + acc1) + (acc2 + acc3));");
            }
            w.Line("for (; i < " + layer.InputCount + "; i++) sum += " + CodeRead(plan, "start + i") + " * x[i];");
            w.Line("y[o] = " + DenseOutput(q, "sum", "o", relu) + ";");
        }
    }

    /// <summary>
    /// The AVX-512 dense kernel: four outputs at a time, so each 16 inputs are loaded once for four rows of codes,
    /// and each 16 codes are sign-extended to ints by one instruction (vpmovsxbd) and converted to floats by one
    /// more; the four rows are four independent multiply-add chains. The inputs past the last whole 16 and the
    /// outputs past the last whole 4 take the scalar path.
    /// </summary>
    private static void WriteDenseRowGroups(SourceWriter w, ModelPlan plan, DenseLayer layer, QuantizedLayer q, bool relu)
    {
        const string V5 = "global::System.Runtime.Intrinsics.Vector512";
        const string X5 = "global::System.Runtime.Intrinsics.X86.Avx512F";
        int n = layer.InputCount, whole = n / 16 * 16;
        string Codes(string at) => X5 + ".ConvertToVector512Single(" + SignExtended(V5, X5 + ".ConvertToVector512Int32(global::System.Runtime.Intrinsics.Vector128.AsSByte(global::System.Runtime.Intrinsics.Vector128.LoadUnsafe(ref codes, " + at + ")))", plan.Bits) + ")";
        string Result(string sum, string o) => DenseOutput(q, sum, o, relu);
        w.Line("// Four outputs at a time: 16 inputs loaded once per four rows of codes, each 16 codes sign-extended and converted by two instructions.");
        w.Line("int o = 0;");
        using (w.Block("for (; o <= " + (layer.Outputs - 4) + "; o += 4)"))
        {
            w.Line("nuint row0 = (nuint)(o * " + n + "), row1 = row0 + " + n + ", row2 = row1 + " + n + ", row3 = row2 + " + n + ";");
            w.Line(V5 + "<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;");
            using (w.Block("for (nuint i = 0; i < " + whole + "; i += 16)"))
            {
                w.Line(V5 + "<float> v = " + V5 + ".LoadUnsafe(ref input, i);");
                for (int r = 0; r < 4; r++) w.Line("acc" + r + " = " + V5 + ".FusedMultiplyAdd(" + Codes("row" + r + " + i") + ", v, acc" + r + ");");
            }
            w.Line("float sum0 = " + V5 + ".Sum(acc0), sum1 = " + V5 + ".Sum(acc1), sum2 = " + V5 + ".Sum(acc2), sum3 = " + V5 + ".Sum(acc3);");
            if (whole < n)
            {
                using (w.Block("for (int i = " + whole + "; i < " + n + "; i++)"))
                {
                    w.Line("float v = x[i];");
                    for (int r = 0; r < 4; r++) w.Line("sum" + r + " += " + CodeRead(plan, "(o + " + r + ") * " + n + " + i") + " * v;");
                }
            }
            for (int r = 0; r < 4; r++) w.Line("y[o + " + r + "] = " + Result("sum" + r, "o + " + r) + ";");
        }
        if (layer.Outputs % 4 != 0)
        {
            using (w.Block("for (; o < " + layer.Outputs + "; o++)"))
            {
                w.Line("nuint row = (nuint)(o * " + n + ");");
                w.Line(V5 + "<float> acc = default;");
                w.Line("for (nuint i = 0; i < " + whole + "; i += 16) acc = " + V5 + ".FusedMultiplyAdd(" + Codes("row + i") + ", " + V5 + ".LoadUnsafe(ref input, i), acc);");
                w.Line("float sum = " + V5 + ".Sum(acc);");
                if (whole < n) w.Line("for (int i = " + whole + "; i < " + n + "; i++) sum += " + CodeRead(plan, "o * " + n + " + i") + " * x[i];");
                w.Line("y[o] = " + Result("sum", "o") + ";");
            }
        }
    }


    /// <summary>
    /// A dense output from its sum of codes times inputs: scaled per output, with the mean-correction offset times
    /// the input's sum (<c>inputSum</c>) where the layer has one, plus the bias, clamped where a ReLU is fused in.
    /// </summary>
    private static string DenseOutput(QuantizedLayer q, string sum, string o, bool relu) =>
        Store("scale[" + o + "] * (" + sum + (q.CodeOffset != 0 ? " + " + Literals.Float(q.CodeOffset) + " * inputSum" : "") + ") + bias[" + o + "]", relu);

    /// <summary>
    /// Int lanes holding b-bit codes read through a sign extension from 8 bits, sign-extended from bit b − 1 (a
    /// no-op for 8-bit codes). <paramref name="vector"/> is the Vector256 or Vector512 class.
    /// </summary>
    private static string SignExtended(string vector, string ints, int bits) =>
        bits < 8 ? vector + ".ShiftRightArithmetic(" + vector + ".ShiftLeft(" + ints + ", " + (32 - bits) + "), " + (32 - bits) + ")" : ints;

    /// <summary>Weights a vectorized convolution dequantizes on the stack; larger layers use a per-thread buffer.</summary>
    private const int StackWeights = 16 * 1024;

    private static void WriteConv(SourceWriter w, ModelPlan plan, ConvLayer c, string method, bool relu, int inStride, int outStride)
    {
        if (IsVectorConv(plan, c))
        {
            WriteVectorConv(w, plan, c, method, ChannelVectors(c), relu, inStride, outStride);
            return;
        }
        w.Line("/// <summary>" + Xml(c.Name) + ": Conv " + Shape.Format(c.InputShape) + " -> " + Shape.Format(c.OutputShape) + ", kernel " + c.Window + (relu ? ", ReLU fused in" : "") + ".</summary>");
        QuantizedLayer? q = plan.IsQuantized ? Quantized(plan, c) : null;
        bool offset = q is not null && q.CodeOffset != 0;
        string signature = plan.IsQuantized
            ? "private static void " + method + "(global::System.ReadOnlySpan<byte> w, global::System.ReadOnlySpan<float> x, global::System.Span<float> y)"
            : "private static void " + method + "(global::System.ReadOnlySpan<float> x, global::System.Span<float> y)";
        using (w.Block(signature))
        {
            w.Line(plan.IsQuantized ? CodeSpan(plan) : "global::System.ReadOnlySpan<float> q = " + method + "_Weights;");
            if (plan.IsQuantized) w.Line("global::System.ReadOnlySpan<float> scale = " + method + "_Scale;");
            w.Line("global::System.ReadOnlySpan<float> bias = " + method + "_Bias;");
            using (w.Block("for (int oc = 0; oc < " + c.OutChannels + "; oc++)"))
            using (w.Block("for (int oy = 0; oy < " + c.OutH + "; oy++)"))
            using (w.Block("for (int ox = 0; ox < " + c.OutW + "; ox++)"))
            {
                w.Line("float sum = 0f;");
                if (offset) w.Line("float windowSum = 0f;");
                using (w.Block("for (int ic = 0; ic < " + c.InChannels + "; ic++)"))
                using (w.Block("for (int ky = 0; ky < " + c.Window.KernelH + "; ky++)"))
                {
                    w.Line("int iy = oy * " + c.Window.StrideH + " - " + c.Window.PadTop + " + ky;");
                    w.Line("if ((uint)iy >= " + c.InH + "u) continue;");
                    w.Line("int kernelRow = ((oc * " + c.InChannels + " + ic) * " + c.Window.KernelH + " + ky) * " + c.Window.KernelW + ";");
                    w.Line("int inputRow = (ic * " + c.InH + " + iy) * " + c.InW + ";");
                    using (w.Block("for (int kx = 0; kx < " + c.Window.KernelW + "; kx++)"))
                    {
                        w.Line("int ix = ox * " + c.Window.StrideW + " - " + c.Window.PadLeft + " + kx;");
                        w.Line("if ((uint)ix >= " + c.InW + "u) continue;");
                        w.Line("float v = x[inputRow + ix];");
                        w.Line("sum += " + (plan.IsQuantized ? CodeRead(plan, "kernelRow + kx") : "q[kernelRow + kx]") + " * v;");
                        if (offset) w.Line("windowSum += v;");
                    }
                }
                string value = plan.IsQuantized
                    ? "scale[oc] * (sum" + (offset ? " + " + Literals.Float(q!.CodeOffset) + " * windowSum" : "") + ") + bias[oc]"
                    : "sum + bias[oc]";
                w.Line("y[(oc * " + c.OutH + " + oy) * " + c.OutW + " + ox] = " + Store(value, relu) + ";");
            }
        }
        w.Line();
        if (plan.IsQuantized) w.Line("private static global::System.ReadOnlySpan<float> " + method + "_Scale => " + Literals.FloatArray(q!.ChannelScales) + ";");
        else w.Line("private static global::System.ReadOnlySpan<float> " + method + "_Weights => " + Literals.FloatArray(c.Weights) + ";");
        w.Line("private static global::System.ReadOnlySpan<float> " + method + "_Bias => " + Literals.FloatArray(c.Bias) + ";");
        w.Line();
    }

    /// <summary>Accumulator vectors a blocked convolution keeps in registers (of 16 AVX registers, the rest hold weights and the broadcast).</summary>
    private const int MaxAccumulators = 10;

    /// <summary>
    /// A convolution vectorized over output channels and blocked over output columns. Once per call the codes are
    /// dequantized into a [tap][channel] float table padded to whole vectors, with the mean-correction offset
    /// added to every code (Σ(q + p01)·x is the corrected sum, so no window sums are needed). The input is read
    /// channels-last ([row][column][channel]), copied first into a zero-bordered buffer when the layer pads or
    /// its input arrives channel-major, so the inner loops need no bounds tests. For each block of output columns
    /// every tap's weight vectors are loaded once and multiply-added with each column's input, broadcast:
    /// (columns × channel vectors) accumulators stay in registers. Scale, bias and a fused ReLU are applied to
    /// whole vectors; channels-last outputs (<paramref name="outStride"/> &gt; 0, chains) are then stored as they
    /// are, channel-major ones (graphs) are scattered to their planes.
    /// </summary>
    /// <param name="inStride">The input's channel stride when it is channels-last; 0 when it is channel-major.</param>
    /// <param name="outStride">The output's channel stride (the padded channel count) for channels-last; 0 for channel-major.</param>
    private static void WriteVectorConv(SourceWriter w, ModelPlan plan, ConvLayer c, string method, int vectors, bool relu, int inStride, int outStride)
    {
        QuantizedLayer q = Quantized(plan, c);
        Window k = c.Window;
        int taps = c.InChannels * k.KernelH * k.KernelW, padded = vectors * 8, table = taps * padded;
        int block = Enumerable.Range(1, Math.Min(8, c.OutW)).Where(b => c.OutW % b == 0 && b * vectors <= MaxAccumulators).DefaultIfEmpty(1).Max();
        bool pads = k.PadTop > 0 || k.PadLeft > 0 || (c.OutH - 1) * k.StrideH + k.KernelH > c.InH || (c.OutW - 1) * k.StrideW + k.KernelW > c.InW;
        // One channel stored channel-major is already channels-last with stride 1.
        int cs = inStride > 0 ? inStride : c.InChannels == 1 ? 1 : c.InChannels;
        bool transposes = inStride == 0 && c.InChannels > 1;
        bool stages = pads || transposes;
        int paddedH = pads ? Math.Max(c.InH + k.PadTop, (c.OutH - 1) * k.StrideH + k.KernelH) : c.InH;
        int paddedW = pads ? Math.Max(c.InW + k.PadLeft, (c.OutW - 1) * k.StrideW + k.KernelW) : c.InW;
        int inputLength = paddedH * paddedW * cs;
        int xLength = inStride > 0 ? c.InH * c.InW * inStride : c.InputLength;
        int yLength = outStride > 0 ? c.OutH * c.OutW * outStride : c.OutputLength;
        const string Mm = "global::System.Runtime.InteropServices.MemoryMarshal";
        w.Line("/// <summary>" + Xml(c.Name) + ": Conv " + Shape.Format(c.InputShape) + " -> " + Shape.Format(c.OutputShape) + ", kernel " + k + "; "
            + vectors + " vector(s) of 8 output channels by " + block + " output column(s) at a time" + (relu ? "; ReLU fused in" : "")
            + "; reads " + (inStride > 0 ? "channels-last rows with " + inStride + " channel slots" : "channel-major planes")
            + ", writes " + (outStride > 0 ? "channels-last rows with " + outStride + " channel slots" : "channel-major planes") + ".</summary>");
        using (w.Block("private static void " + method + "(global::System.ReadOnlySpan<byte> w, global::System.ReadOnlySpan<float> x, global::System.Span<float> y)"))
        {
            w.Line(CodeSpan(plan));
            w.Line("if (w.Length < " + c.Weights.Length * plan.BytesPerCode + " || x.Length < " + xLength + " || y.Length < " + yLength + ") throw new global::System.ArgumentException(\"A layer buffer is too short.\");");
            w.Line("// The codes (stored tap-major) as floats" + (q.CodeOffset != 0 ? " plus the mean-correction offset " + Literals.Float(q.CodeOffset) : "") + ", [tap][output channel], channels padded with zeros to " + padded + ".");
            w.Line(table <= StackWeights
                ? "global::System.Span<float> table = stackalloc float[" + table + "];"
                : "global::System.Span<float> table = s_" + method + "_Table ??= new float[" + table + "];");
            w.Line("ref float weights = ref " + Mm + ".GetReference(table);");
            WriteCodeTable(w, plan, taps, c.OutChannels, padded, q.CodeOffset);
            if (stages)
            {
                w.Line("// The input channels-last" + (pads ? " inside a zero border of " + k.PadTop + " rows and " + k.PadLeft + " columns" : "") + ": " + paddedH + " x " + paddedW + " x " + cs + ".");
                w.Line(inputLength <= StackFloats
                    ? "global::System.Span<float> input = stackalloc float[" + inputLength + "];"
                    : "global::System.Span<float> input = s_" + method + "_Input ??= new float[" + inputLength + "];");
                if (inputLength > StackFloats) w.Line("input.Clear();");
                if (transposes)
                {
                    // x was checked to hold the whole input, and the buffer is the padded size: no bounds tests.
                    w.Line("ref float planes = ref " + Mm + ".GetReference(x);");
                    w.Line("ref float staged = ref " + Mm + ".GetReference(input);");
                    using (w.Block("for (nuint ic = 0; ic < " + c.InChannels + "; ic++)"))
                    using (w.Block("for (nuint iy = 0; iy < " + c.InH + "; iy++)"))
                        w.Line("for (nuint ix = 0; ix < " + c.InW + "; ix++) global::System.Runtime.CompilerServices.Unsafe.Add(ref staged, ((iy + " + k.PadTop + ") * " + paddedW + " + ix + " + k.PadLeft + ") * " + cs + " + ic) = global::System.Runtime.CompilerServices.Unsafe.Add(ref planes, (ic * " + c.InH + " + iy) * " + c.InW + " + ix);");
                }
                else
                {
                    using (w.Block("for (int iy = 0; iy < " + c.InH + "; iy++)"))
                        w.Line("x.Slice(iy * " + (c.InW * cs) + ", " + (c.InW * cs) + ").CopyTo(input.Slice(((iy + " + k.PadTop + ") * " + paddedW + " + " + k.PadLeft + ") * " + cs + ", " + (c.InW * cs) + "));");
                }
            }
            else
            {
                w.Line("global::System.ReadOnlySpan<float> input = x;");
            }
            w.Line("ref float pixels = ref " + Mm + ".GetReference(input);");
            w.Line("ref float scales = ref " + Mm + ".GetReference(" + method + "_Scale);");
            w.Line("ref float biases = ref " + Mm + ".GetReference(" + method + "_Bias);");
            if (outStride > 0) w.Line("ref float result = ref " + Mm + ".GetReference(y);");
            else
            {
                w.Line("global::System.Span<float> sums = stackalloc float[" + (block * padded) + "];");
                w.Line("ref float total = ref " + Mm + ".GetReference(sums);");
            }
            using (w.Block("for (int oy = 0; oy < " + c.OutH + "; oy++)"))
            using (w.Block("for (int ox = 0; ox < " + c.OutW + "; ox += " + block + ")"))
            {
                for (int p = 0; p < block; p++)
                    w.Line(string.Join(" ", Enumerable.Range(0, vectors).Select(g => V + "<float> acc" + p + "_" + g + " = default;")));
                using (w.Block("for (int ic = 0; ic < " + c.InChannels + "; ic++)"))
                using (w.Block("for (int ky = 0; ky < " + k.KernelH + "; ky++)"))
                {
                    w.Line("nuint row = (nuint)(((oy * " + k.StrideH + " + ky) * " + paddedW + " + ox * " + k.StrideW + ") * " + cs + " + ic);");
                    w.Line("nuint tap = (nuint)((ic * " + k.KernelH + " + ky) * " + k.KernelW + " * " + padded + ");");
                    for (int kx = 0; kx < k.KernelW; kx++)
                    using (w.Block("// kx = " + kx + ": the weight vectors once, every column's input broadcast"))
                    {
                        for (int g = 0; g < vectors; g++)
                            w.Line(V + "<float> w" + g + " = " + V + ".LoadUnsafe(ref weights, tap + " + (kx * padded + 8 * g) + ");");
                        for (int p = 0; p < block; p++)
                        {
                            w.Line("{ " + V + "<float> v = " + V + ".Create(global::System.Runtime.CompilerServices.Unsafe.Add(ref pixels, row + " + ((p * k.StrideW + kx) * cs) + "));");
                            for (int g = 0; g < vectors; g++) w.Line("  acc" + p + "_" + g + " = " + V + ".FusedMultiplyAdd(w" + g + ", v, acc" + p + "_" + g + ");" + (g == vectors - 1 ? " }" : ""));
                        }
                    }
                }
                w.Line("// scale · sum + bias" + (relu ? ", then the ReLU" : "") + ", a vector of channels at a time.");
                for (int g = 0; g < vectors; g++)
                {
                    w.Line("{ " + V + "<float> scale = " + V + ".LoadUnsafe(ref scales, " + (8 * g) + "), bias = " + V + ".LoadUnsafe(ref biases, " + (8 * g) + ");");
                    for (int p = 0; p < block; p++)
                    {
                        string value = V + ".FusedMultiplyAdd(acc" + p + "_" + g + ", scale, bias)";
                        if (relu) value = V + ".Max(" + value + ", " + V + "<float>.Zero)";
                        string at = outStride > 0 ? "(nuint)((oy * " + c.OutW + " + ox + " + p + ") * " + outStride + " + " + (8 * g) + ")" : "" + (p * padded + 8 * g);
                        w.Line("  " + V + ".StoreUnsafe(" + value + ", ref " + (outStride > 0 ? "result" : "total") + ", " + at + ");" + (p == block - 1 ? " }" : ""));
                    }
                }
                if (outStride == 0)
                {
                    using (w.Block("for (int oc = 0; oc < " + c.OutChannels + "; oc++)"))
                    {
                        w.Line("int at = (oc * " + c.OutH + " + oy) * " + c.OutW + " + ox;");
                        for (int p = 0; p < block; p++)
                            w.Line("y[at + " + p + "] = sums[" + (p * padded) + " + oc];");
                    }
                }
            }
        }
        w.Line();
        if (table > StackWeights)
        {
            w.Line("[global::System.ThreadStatic] private static float[]? s_" + method + "_Table;");
            w.Line();
        }
        if (stages && inputLength > StackFloats)
        {
            w.Line("[global::System.ThreadStatic] private static float[]? s_" + method + "_Input;");
            w.Line();
        }
        w.Line("// Per-channel scale and bias, padded with zeros to " + padded + " channels so the padding lanes stay 0.");
        w.Line("private static global::System.ReadOnlySpan<float> " + method + "_Scale => " + Literals.FloatArray(Pad(q.ChannelScales, padded)) + ";");
        w.Line("private static global::System.ReadOnlySpan<float> " + method + "_Bias => " + Literals.FloatArray(Pad(c.Bias, padded)) + ";");
        w.Line();
    }

    /// <summary>
    /// Fills <c>table</c> (in scope as a float span, <c>weights</c> a reference to it) from the codes span
    /// <c>w</c> stored as <paramref name="runs"/> runs of <paramref name="length"/> codes: run k goes to
    /// table[k·<paramref name="padded"/> ..], each code plus <paramref name="offset"/>. With AVX2, eight codes at a
    /// time are sign-extended by one instruction and converted; the rest of each run one at a time.
    /// </summary>
    private static void WriteCodeTable(SourceWriter w, ModelPlan plan, int runs, int length, int padded, float offset)
    {
        const string Mm = "global::System.Runtime.InteropServices.MemoryMarshal";
        const string Avx2 = "global::System.Runtime.Intrinsics.X86.Avx2";
        const string Unsafe = "global::System.Runtime.CompilerServices.Unsafe";
        int whole = length / 8 * 8;
        string plus = offset != 0 ? " + " + Literals.Float(offset) : "";
        if (plan.Bits <= 8 && whole > 0)
        {
            w.Line("int first = 0;");
            using (w.Block("if (" + Avx2 + ".IsSupported)"))
            {
                w.Line("// Eight codes sign-extended to ints by one instruction, then converted.");
                w.Line("ref byte codes = ref " + Mm + ".GetReference(w);");
                if (offset != 0) w.Line(V + "<float> offset = " + V + ".Create(" + Literals.Float(offset) + ");");
                using (w.Block("for (int run = 0; run < " + runs + "; run++)"))
                using (w.Block("for (int o = 0; o < " + whole + "; o += 8)"))
                {
                    w.Line("global::System.Runtime.Intrinsics.Vector128<sbyte> eight = global::System.Runtime.Intrinsics.Vector128.AsSByte(global::System.Runtime.Intrinsics.Vector128.CreateScalarUnsafe(" + Unsafe + ".ReadUnaligned<long>(ref " + Unsafe + ".Add(ref codes, run * " + length + " + o))));");
                    w.Line(V + "<int> ints = " + SignExtended(V, Avx2 + ".ConvertToVector256Int32(eight)", plan.Bits) + ";");
                    w.Line(V + ".StoreUnsafe(" + V + ".ConvertToSingle(ints)" + (offset != 0 ? " + offset" : "") + ", ref weights, (nuint)(run * " + padded + " + o));");
                }
                w.Line("first = " + whole + ";");
            }
        }
        string from = plan.Bits <= 8 && whole > 0 ? "first" : "0";
        using (w.Block("for (int run = 0; run < " + runs + "; run++)"))
            w.Line("for (int o = " + from + "; o < " + length + "; o++) table[run * " + padded + " + o] = " + CodeRead(plan, "run * " + length + " + o") + plus + ";");
    }

    private static float[] Pad(float[] values, int length)
    {
        var result = new float[length];
        Array.Copy(values, result, Math.Min(values.Length, length));
        return result;
    }

    private static void WritePool(SourceWriter w, PoolLayer p, string method)
    {
        bool max = p.Kind == PoolKind.Max;
        w.Line("/// <summary>" + Xml(p.Name) + ": " + p.Operator + " " + Shape.Format(p.InputShape) + " -> " + Shape.Format(p.OutputShape) + ", window " + p.Window.KernelH + "x" + p.Window.KernelW + ", stride " + p.Window.StrideH + "x" + p.Window.StrideW + ".</summary>");
        using (w.Block("private static void " + method + "(global::System.ReadOnlySpan<float> x, global::System.Span<float> y)"))
        using (w.Block("for (int c = 0; c < " + p.InputShape[0] + "; c++)"))
        using (w.Block("for (int oy = 0; oy < " + p.OutputShape[1] + "; oy++)"))
        using (w.Block("for (int ox = 0; ox < " + p.OutputShape[2] + "; ox++)"))
        {
            w.Line(max ? "float best = float.NegativeInfinity;" : "float sum = 0f;");
            if (!max && !p.CountIncludePad) w.Line("int count = 0;");
            using (w.Block("for (int ky = 0; ky < " + p.Window.KernelH + "; ky++)"))
            {
                w.Line("int iy = oy * " + p.Window.StrideH + " - " + p.Window.PadTop + " + ky;");
                w.Line("if ((uint)iy >= " + p.InputShape[1] + "u) continue;");
                using (w.Block("for (int kx = 0; kx < " + p.Window.KernelW + "; kx++)"))
                {
                    w.Line("int ix = ox * " + p.Window.StrideW + " - " + p.Window.PadLeft + " + kx;");
                    w.Line("if ((uint)ix >= " + p.InputShape[2] + "u) continue;");
                    w.Line("float v = x[(c * " + p.InputShape[1] + " + iy) * " + p.InputShape[2] + " + ix];");
                    w.Line(max ? "if (v > best) best = v;" : p.CountIncludePad ? "sum += v;" : "sum += v; count++;");
                }
            }
            string value = max ? "best" : p.CountIncludePad ? "sum / " + p.Window.Size + "f" : "count == 0 ? 0f : sum / count";
            w.Line("y[(c * " + p.OutputShape[1] + " + oy) * " + p.OutputShape[2] + " + ox] = " + value + ";");
        }
        w.Line();
    }

    private static string G(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string F3(double value) => double.IsPositiveInfinity(value) ? "infinity" : value.ToString("F3", CultureInfo.InvariantCulture);

    private static string Xml(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
