using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;
using AttributeType = Qtaml.Generators.Onnx.Schema.AttributeProto.Types.AttributeType;

namespace Qtaml.Generators.Onnx;

/// <summary>One attribute an operator may carry: its name, type, and the opsets in which ONNX defines it.</summary>
internal sealed record AttributeSchema(string Name, AttributeType Type, int FromOpset = 1, int BeforeOpset = int.MaxValue);

/// <summary>
/// Translates one node, whose inputs, outputs and attributes are already checked against its definition, into layers,
/// and returns the value that holds its output.
/// </summary>
internal delegate int NodeReader(OnnxReader.Reading r, NodeProto node, string name, NodeAttributes a);

/// <summary>
/// Everything Qtaml knows of one ONNX operator of the default domain, in one place: the first opset that defines it,
/// its input and output counts, every attribute it may carry, how it is computed and what it does not do (the text
/// docs/operators.md shows), and the reader that translates its nodes. The reader checks each node against this
/// before it reads a single value: an attribute that is not listed here, or that has another type, is a diagnostic,
/// never silently ignored (an INT alpha read as a FLOAT is 0.0 and zeroes a whole layer).
/// </summary>
internal sealed record OperatorDefinition(string Name, int SinceOpset, int MinInputs, int MaxInputs, int Outputs, AttributeSchema[] Attributes, string Notes, NodeReader Read)
{
    /// <summary>Whether Qtaml computes every output of the operator (Split, If, LSTM, GRU), not only the first.</summary>
    public bool ComputesAllOutputs => Outputs > 1 && Name is "Split" or "If" or "LSTM" or "GRU";

    /// <summary>Whether nodes of this operator are always computed at build time (no layer, no kernel).</summary>
    public bool OnlyAtBuildTime => ReferenceEquals(Read, OperatorCatalog.AtBuildTime);

    /// <summary>The attributes this operator has at <paramref name="opset"/>.</summary>
    public IEnumerable<AttributeSchema> AttributesAt(int opset) => Attributes.Where(a => opset >= a.FromOpset && opset < a.BeforeOpset);
}

/// <summary>
/// The operator catalog: every default-domain operator Qtaml compiles, and the opsets it reads. The reader's
/// dispatch, its list of supported operators, docs/operators.md and the coverage test (every operator has a reader
/// and is compared with ONNX Runtime, compiled and by the reference evaluator) all come from this table.
/// </summary>
internal static class OperatorCatalog
{
    /// <summary>The oldest default-domain opset read: 6 removed the per-node "consumed_inputs" of the first opsets.</summary>
    public const int MinOpset = 6;

    /// <summary>The newest default-domain opset read (ONNX 1.17, which ONNX Runtime 1.2x runs).</summary>
    public const int MaxOpset = 22;

    private static AttributeSchema Int(string name, int from = 1, int before = int.MaxValue) => new(name, AttributeType.Int, from, before);
    private static AttributeSchema Float(string name, int from = 1, int before = int.MaxValue) => new(name, AttributeType.Float, from, before);
    private static AttributeSchema Ints(string name, int from = 1, int before = int.MaxValue) => new(name, AttributeType.Ints, from, before);
    private static AttributeSchema Floats(string name, int from = 1, int before = int.MaxValue) => new(name, AttributeType.Floats, from, before);
    private static AttributeSchema String(string name, int from = 1, int before = int.MaxValue) => new(name, AttributeType.String, from, before);
    private static AttributeSchema Strings(string name, int from = 1, int before = int.MaxValue) => new(name, AttributeType.Strings, from, before);
    private static AttributeSchema Tensor(string name, int from = 1, int before = int.MaxValue) => new(name, AttributeType.Tensor, from, before);
    private static AttributeSchema Graph(string name) => new(name, AttributeType.Graph);

    /// <summary>The legacy broadcast flags of element-wise arithmetic before opset 7.</summary>
    private static readonly AttributeSchema[] LegacyBroadcast = { Int("broadcast", before: 7), Int("axis", before: 7) };

    private static readonly AttributeSchema[] PoolWindow =
    {
        String("auto_pad"), Int("ceil_mode", 10), Ints("dilations", 10), Ints("kernel_shape"), Ints("pads"), Ints("strides"),
    };

    private static readonly AttributeSchema[] Reduction13 = { Ints("axes", before: 13), Int("keepdims"), Int("noop_with_empty_axes", 13) };
    private static readonly AttributeSchema[] Reduction18 = { Ints("axes", before: 18), Int("keepdims"), Int("noop_with_empty_axes", 18) };
    private static readonly AttributeSchema[] Recurrent = { Floats("activation_alpha"), Floats("activation_beta"), Strings("activations"), Float("clip"), String("direction"), Int("hidden_size") };

    private const string ElementWise = "element-wise";
    private const string Boolean = "booleans as 1/0";
    private const string Broadcasting = "broadcasting";
    private const string Variadic = "variadic, broadcasting";
    private const string Sequences = "over a pinned sequence of any length and batch (unrolled, each step's copy of R bounded), state in (inputs or zeros) and out; forward or reverse";

    private static OperatorDefinition Op(string name, int since, int minInputs, int maxInputs, int outputs, string notes, NodeReader read, params AttributeSchema[] attributes) =>
        new(name, since, minInputs, maxInputs, outputs, attributes, notes, read);

    private static NodeReader Unary(UnaryKind kind) => (r, node, name, a) => OnnxReader.Unary(r, node, name, kind);
    private static NodeReader Binary(BinaryKind kind) => (r, node, name, a) => OnnxReader.ReadBinary(r, node, name, kind, a);
    private static NodeReader Variadic_(BinaryKind kind, bool mean = false) => (r, node, name, a) => OnnxReader.ReadVariadic(r, node, name, kind, mean);
    private static NodeReader Reduce(ReduceKind kind, int axesInputFrom) => (r, node, name, a) => OnnxReader.ReadReduce(r, node, name, a, kind, axesInputFrom);
    private static NodeReader Pool(PoolKind kind) => (r, node, name, a) => OnnxReader.ReadPool(r, node, name, a, kind);
    private static NodeReader GlobalPool(PoolKind kind) => (r, node, name, a) => OnnxReader.ReadGlobalPool(r, node, name, kind);
    /// <summary>The reader of operators computed only at build time (reached only when an input is a run-time value).</summary>
    internal static readonly NodeReader AtBuildTime = OnnxReader.ReadAtBuildTimeOnly;

    private static readonly OperatorDefinition[] Definitions =
    {
        // Dense layers and convolutions: the weights Qtaml quantizes and protects.
        Op("Gemm", 1, 2, 3, 1, "alpha, beta, transA, transB; with a constant B a quantized dense layer, with a computed B a product of values", OnnxReader.ReadGemm,
            Float("alpha"), Float("beta"), Int("transA"), Int("transB"), Int("broadcast", before: 7)),
        Op("MatMul", 1, 2, 2, 1, "with a constant matrix: quantized dense layer on the last axis; of two values: batched product", OnnxReader.ReadMatMul),
        Op("Conv", 1, 2, 3, 1, "1-D/2-D/3-D, groups, dilations, pads, auto_pad; quantized; 1-D/2-D vectorized (table, depthwise kernels), 3-D and odd groups by the direct kernel", OnnxReader.ReadConv,
            String("auto_pad"), Ints("dilations"), Int("group"), Ints("kernel_shape"), Ints("pads"), Ints("strides")),
        Op("ConvTranspose", 1, 2, 3, 1, "1-D/2-D; kernel = stride with no padding or dilation (2x2 upsampling): a 1x1 Conv to a channel per tap and a depth-to-space shuffle; otherwise a zero-spreading copy and a stride-1 Conv (groups, dilations, output_padding, output_shape)", OnnxReader.ReadConvTranspose,
            String("auto_pad"), Ints("dilations"), Int("group"), Ints("kernel_shape"), Ints("output_padding"), Ints("output_shape"), Ints("pads"), Ints("strides")),
        Op("LSTM", 7, 3, 8, 3, Sequences + "; ONNX's default activations; no peepholes, clip, input_forget or bidirectional", (r, node, name, a) => OnnxReader.ReadRecurrent(r, node, name, a, lstm: true),
            Recurrent.Concat(new[] { Int("input_forget"), Int("layout", 14) }).ToArray()),
        Op("GRU", 7, 3, 6, 2, Sequences + "; ONNX's default activations, linear_before_reset 0/1; no clip or bidirectional", (r, node, name, a) => OnnxReader.ReadRecurrent(r, node, name, a, lstm: false),
            Recurrent.Concat(new[] { Int("linear_before_reset"), Int("layout", 14) }).ToArray()),

        // Windows over positions.
        Op("MaxPool", 1, 1, 1, 2, "1-D/2-D/3-D, pads, dilations, ceil_mode; no indices output", Pool(PoolKind.Max), PoolWindow.Concat(new[] { Int("storage_order", 8) }).ToArray()),
        Op("AveragePool", 1, 1, 1, 1, "1-D/2-D/3-D, pads, count_include_pad, dilations (opset 19), ceil_mode (not with count_include_pad)", Pool(PoolKind.Average),
            PoolWindow.Select(a => a.Name == "dilations" ? Ints("dilations", 19) : a).Concat(new[] { Int("count_include_pad", 7) }).ToArray()),
        Op("GlobalAveragePool", 1, 1, 1, 1, "1-D/2-D/3-D", GlobalPool(PoolKind.Average)),
        Op("GlobalMaxPool", 1, 1, 1, 1, "1-D/2-D/3-D", GlobalPool(PoolKind.Max)),

        // Normalizations.
        Op("BatchNormalization", 1, 5, 5, 5, "inference only; folded into the Conv/Gemm before it, else a per-channel scale and shift", OnnxReader.ReadBatchNormalization,
            Float("epsilon"), Float("momentum"), Int("spatial", before: 9), Int("is_test", before: 7), Int("training_mode", 14)),
        Op("LayerNormalization", 17, 2, 3, 3, "any axis (the axes from it normalized together), stash_type 1", OnnxReader.ReadLayerNormalization, Int("axis"), Float("epsilon"), Int("stash_type")),
        Op("InstanceNormalization", 6, 3, 3, 1, "per image and channel over its positions", OnnxReader.ReadInstanceNormalization, Float("epsilon")),
        Op("LRN", 1, 1, 1, 1, "across channels, composed of x², an average pool over channels (zeros counted), Pow and Mul", OnnxReader.ReadLrn, Float("alpha"), Float("beta"), Float("bias"), Int("size")),
        Op("Softmax", 1, 1, 1, 1, "last axis (or the legacy 2-D coercion before opset 13)", (r, node, name, a) => OnnxReader.ReadSoftmax(r, node, name, a), Int("axis")),
        Op("LogSoftmax", 1, 1, 1, 1, "last axis (or the legacy 2-D coercion before opset 13)", (r, node, name, a) => OnnxReader.ReadSoftmax(r, node, name, a, log: true), Int("axis")),

        // Element-wise arithmetic.
        Op("Add", 1, 2, 2, 1, "broadcasting (before opset 7 the legacy broadcast = 1, from axis too); a constant after a Conv/Gemm folds into its bias", OnnxReader.ReadAdd, LegacyBroadcast),
        Op("Sub", 1, 2, 2, 1, Broadcasting, Binary(BinaryKind.Sub), LegacyBroadcast),
        Op("Mul", 1, 2, 2, 1, Broadcasting, Binary(BinaryKind.Mul), LegacyBroadcast),
        Op("Div", 1, 2, 2, 1, Broadcasting, Binary(BinaryKind.Div), LegacyBroadcast),
        Op("Pow", 1, 2, 2, 1, "broadcasting; x² and x^0.5 specialized", Binary(BinaryKind.Pow), LegacyBroadcast),
        Op("Max", 6, 1, int.MaxValue, 1, Variadic, Variadic_(BinaryKind.Max)),
        Op("Min", 6, 1, int.MaxValue, 1, Variadic, Variadic_(BinaryKind.Min)),
        Op("Sum", 6, 1, int.MaxValue, 1, Variadic, Variadic_(BinaryKind.Add)),
        Op("Mean", 6, 1, int.MaxValue, 1, Variadic, Variadic_(BinaryKind.Add, mean: true)),
        Op("PRelu", 6, 2, 2, 1, "slope broadcast to the input (per channel before opset 7)", (r, node, name, a) => OnnxReader.ReadPRelu(r, node, name)),
        Op("Clip", 6, 1, 3, 1, "bounds as attributes (<11) or inputs (constants, infinite allowed, or computed at run time); ReLU6", OnnxReader.ReadClip, Float("min", before: 11), Float("max", before: 11)),
        Op("Where", 9, 3, 3, 1, "broadcasting, condition true where not 0", (r, node, name, a) => r.Network.Where(name, r.Operand(node, name, 0), r.Operand(node, name, 1), r.Operand(node, name, 2))),

        // Element-wise functions.
        Op("Relu", 1, 1, 1, 1, "fused into the Conv/Gemm/Add before it where it can be", (r, node, name, a) => { r.Data(node, name); r.Network.Relu(name); return r.Network.Current; }),
        Op("Abs", 1, 1, 1, 1, ElementWise, Unary(UnaryKind.Abs)),
        Op("Neg", 1, 1, 1, 1, ElementWise, Unary(UnaryKind.Neg)),
        Op("Sqrt", 1, 1, 1, 1, ElementWise, Unary(UnaryKind.Sqrt)),
        Op("Reciprocal", 1, 1, 1, 1, ElementWise, Unary(UnaryKind.Reciprocal)),
        Op("Exp", 1, 1, 1, 1, ElementWise, Unary(UnaryKind.Exp)),
        Op("Log", 6, 1, 1, 1, ElementWise, Unary(UnaryKind.Log)),
        Op("Tanh", 1, 1, 1, 1, ElementWise, Unary(UnaryKind.Tanh)),
        Op("Sigmoid", 1, 1, 1, 1, ElementWise, Unary(UnaryKind.Sigmoid)),
        Op("Erf", 9, 1, 1, 1, ElementWise, Unary(UnaryKind.Erf)),
        Op("Gelu", 20, 1, 1, 1, "exact (erf) form", OnnxReader.ReadGelu, String("approximate")),
        Op("Softplus", 1, 1, 1, 1, "element-wise, overflow-safe", Unary(UnaryKind.Softplus)),
        Op("Softsign", 1, 1, 1, 1, ElementWise, Unary(UnaryKind.Softsign)),
        Op("HardSwish", 14, 1, 1, 1, ElementWise, Unary(UnaryKind.HardSwish)),
        Op("HardSigmoid", 6, 1, 1, 1, ElementWise, (r, node, name, a) => OnnxReader.Unary(r, node, name, UnaryKind.HardSigmoid, a.Float("alpha", 0.2f), a.Float("beta", 0.5f)), Float("alpha"), Float("beta")),
        Op("LeakyRelu", 6, 1, 1, 1, ElementWise, (r, node, name, a) => OnnxReader.Unary(r, node, name, UnaryKind.LeakyRelu, a.Float("alpha", 0.01f)), Float("alpha")),
        Op("Elu", 6, 1, 1, 1, ElementWise, (r, node, name, a) => OnnxReader.Unary(r, node, name, UnaryKind.Elu, a.Float("alpha", 1f)), Float("alpha")),
        Op("Selu", 6, 1, 1, 1, ElementWise, (r, node, name, a) => OnnxReader.Unary(r, node, name, UnaryKind.Selu, a.Float("alpha", 1.67326319217681884765625f), a.Float("gamma", 1.05070102214813232421875f)),
            Float("alpha"), Float("gamma")),

        // Comparisons and logic: booleans are 1 and 0 at run time.
        Op("Equal", 7, 2, 2, 1, Boolean, Binary(BinaryKind.Equal)),
        Op("Greater", 7, 2, 2, 1, Boolean, Binary(BinaryKind.Greater)),
        Op("Less", 7, 2, 2, 1, Boolean, Binary(BinaryKind.Less)),
        Op("GreaterOrEqual", 12, 2, 2, 1, Boolean, Binary(BinaryKind.GreaterOrEqual)),
        Op("LessOrEqual", 12, 2, 2, 1, Boolean, Binary(BinaryKind.LessOrEqual)),
        Op("And", 7, 2, 2, 1, Boolean, Binary(BinaryKind.And)),
        Op("Or", 7, 2, 2, 1, Boolean, Binary(BinaryKind.Or)),
        Op("Xor", 7, 2, 2, 1, Boolean, Binary(BinaryKind.Xor)),
        Op("Not", 1, 1, 1, 1, Boolean, Unary(UnaryKind.Not)),

        // Reductions.
        Op("ReduceSum", 1, 1, 2, 1, "any constant axes, keepdims", Reduce(ReduceKind.Sum, axesInputFrom: 13), Reduction13),
        Op("ReduceMean", 1, 1, 2, 1, "any constant axes, keepdims", Reduce(ReduceKind.Mean, axesInputFrom: 18), Reduction18),
        Op("ReduceMax", 1, 1, 2, 1, "any constant axes, keepdims", Reduce(ReduceKind.Max, axesInputFrom: 18), Reduction18),
        Op("ReduceMin", 1, 1, 2, 1, "any constant axes, keepdims", Reduce(ReduceKind.Min, axesInputFrom: 18), Reduction18),

        // Moving, joining and picking values.
        Op("Reshape", 5, 2, 2, 1, "constant shape (0 copies a dimension, one -1), any axes; of constants: folded", OnnxReader.ReadReshape, Int("allowzero", 14)),
        Op("Flatten", 1, 1, 1, 1, "any axis; of constants: folded", OnnxReader.ReadFlatten, Int("axis")),
        Op("Transpose", 1, 1, 1, 1, "any permutation (unit axes dropped, axes that move together merged); of constants: folded", OnnxReader.ReadTranspose, Ints("perm")),
        Op("Squeeze", 1, 1, 2, 1, "constant axes", (r, node, name, a) => OnnxReader.ReadSqueeze(r, node, name, a, squeeze: true), Ints("axes", before: 13)),
        Op("Unsqueeze", 1, 1, 2, 1, "constant axes", (r, node, name, a) => OnnxReader.ReadSqueeze(r, node, name, a, squeeze: false), Ints("axes", before: 13)),
        Op("Concat", 1, 1, int.MaxValue, 1, "values and constants on any axis; of constants: folded; channels-last branches along the channels, each ending in a convolution of whole vectors of 8 channels: no copy, each convolution stores into its slice", OnnxReader.ReadConcat, Int("axis")),
        Op("Split", 2, 1, 2, int.MaxValue, "constant sizes, or even; every output", OnnxReader.ReadSplit, Int("axis"), Ints("split", before: 13), Int("num_outputs", 18)),
        Op("Slice", 1, 1, 5, 1, "constant starts/ends/axes/steps, negative steps", OnnxReader.ReadSlice, Ints("starts", before: 10), Ints("ends", before: 10), Ints("axes", before: 10)),
        Op("Pad", 2, 1, 4, 1, "constant, reflect, edge, wrap; constant pads", OnnxReader.ReadPad, String("mode"), Ints("pads", before: 11), Float("value", before: 11)),
        Op("Tile", 6, 2, 2, 1, "constant repeats", (r, node, name, a) => OnnxReader.ReadTile(r, node, name)),
        Op("Gather", 1, 2, 2, 1, "a constant table (an embedding, quantized) at constant indices or at an int64/int32 graph input's (token ids: Run takes them as a span of long or int, or as whole floats in the float-span Run, and checks each against the table); of a value at constant indices, any axis; integer constants: folded",
            OnnxReader.ReadGather, Int("axis")),
        Op("Resize", 10, 2, 4, 1, "nearest (4 rounding modes) and linear, constant scales or sizes, any axes; half_pixel, asymmetric, align_corners, pytorch_half_pixel, half_pixel_symmetric; as index-table copies (and weighted sums for linear); no cubic, antialias or tf_crop_and_resize",
            OnnxReader.ReadResize, String("mode"), String("coordinate_transformation_mode", 11), String("nearest_mode", 11), Float("cubic_coeff_a", 11),
            Int("exclude_outside", 11), Float("extrapolation_value", 11), Int("antialias", 18), Ints("axes", 18), String("keep_aspect_ratio_policy", 18)),
        Op("Cast", 6, 1, 1, 1, "of constants: folded (float, double, int32, int64, bool); of a value: to float32 or double (the identity: values stay float32), float16 (rounded to the nearest half) or bool (1 where not 0)",
            OnnxReader.ReadCast, Int("to"), Int("saturate", 19)),
        Op("Identity", 1, 1, 1, 1, "no step", OnnxReader.ReadIdentity),
        Op("Dropout", 1, 1, 3, 2, "inference: the identity; training_mode true is refused", OnnxReader.ReadDropout, Float("ratio", before: 12), Int("is_test", before: 7), Int("seed", 12)),

        // Control flow.
        Op("If", 1, 1, 1, int.MaxValue, "constant condition: only the taken branch; computed condition: both branches, each step guarded, then a Where", OnnxReader.ReadIf,
            Graph("then_branch"), Graph("else_branch")),

        // Computed at build time: shapes are static, so these never reach run time.
        Op("Constant", 1, 0, 0, 1, "value, value_float(s), value_int(s)", AtBuildTime, Tensor("value"), Float("value_float", 12), Floats("value_floats", 12), Int("value_int", 12), Ints("value_ints", 12),
            String("value_string", 12), Strings("value_strings", 12), new AttributeSchema("sparse_value", AttributeType.SparseTensor, 11)),
        Op("Shape", 1, 1, 1, 1, "folded: shapes are known at build time", AtBuildTime, Int("start", 15), Int("end", 15)),
        Op("Size", 1, 1, 1, 1, "folded: shapes are known at build time", AtBuildTime),
        Op("ConstantOfShape", 9, 1, 1, 1, "folded at build time (size-bounded)", AtBuildTime, Tensor("value")),
        Op("Range", 11, 3, 3, 1, "folded at build time", AtBuildTime),
    };

    private static readonly Dictionary<string, OperatorDefinition> ByName = Definitions.ToDictionary(o => o.Name, o => o, System.StringComparer.Ordinal);

    public static bool TryGet(string op, out OperatorDefinition definition) => ByName.TryGetValue(op, out definition!);

    /// <summary>Every supported operator, by name.</summary>
    public static IEnumerable<OperatorDefinition> All => ByName.Values.OrderBy(o => o.Name, System.StringComparer.Ordinal);

    /// <summary>Every supported operator, for the unsupported-operator diagnostic.</summary>
    public static string SupportedList => string.Join(", ", ByName.Keys.OrderBy(k => k, System.StringComparer.Ordinal));
}
