using System.Collections.Generic;
using System.Linq;
using AttributeType = Qtaml.Generators.Onnx.Schema.AttributeProto.Types.AttributeType;

namespace Qtaml.Generators.Onnx;

/// <summary>One attribute an operator may carry: its name, type, and the opsets in which ONNX defines it.</summary>
internal sealed record AttributeSchema(string Name, AttributeType Type, int FromOpset = 1, int BeforeOpset = int.MaxValue);

/// <summary>
/// What Qtaml knows of one ONNX operator of the default domain: the first opset that defines it, its input
/// and output counts, and every attribute it may carry. The reader checks each node against this before it
/// reads a single value: an attribute that is not listed here, or that has another type, is a diagnostic,
/// never silently ignored (an INT alpha read as a FLOAT is 0.0 and zeroes a whole layer).
/// </summary>
internal sealed record OperatorSchema(string Name, int SinceOpset, int MinInputs, int MaxInputs, int Outputs, AttributeSchema[] Attributes)
{
    /// <summary>Whether Qtaml computes every output of the operator (Split, If, LSTM), not only the first.</summary>
    public bool ComputesAllOutputs => Outputs > 1 && Name is "Split" or "If" or "LSTM" or "GRU";

    /// <summary>The attributes this operator has at <paramref name="opset"/>.</summary>
    public IEnumerable<AttributeSchema> AttributesAt(int opset) => Attributes.Where(a => opset >= a.FromOpset && opset < a.BeforeOpset);
}

/// <summary>The default-domain operators Qtaml compiles, and the opsets it reads.</summary>
internal static class OperatorSchemas
{
    /// <summary>The oldest default-domain opset read: 6 removed the per-node "consumed_inputs" of the first opsets.</summary>
    public const int MinOpset = 6;

    /// <summary>The newest default-domain opset read (ONNX 1.17, which ONNX Runtime 1.2x runs).</summary>
    public const int MaxOpset = 22;

    private static AttributeSchema Int(string name, int from = 1, int before = int.MaxValue) => new(name, AttributeType.Int, from, before);
    private static AttributeSchema Float(string name, int from = 1, int before = int.MaxValue) => new(name, AttributeType.Float, from, before);
    private static AttributeSchema Ints(string name, int from = 1, int before = int.MaxValue) => new(name, AttributeType.Ints, from, before);
    private static AttributeSchema String(string name, int from = 1, int before = int.MaxValue) => new(name, AttributeType.String, from, before);
    private static AttributeSchema Tensor(string name, int from = 1, int before = int.MaxValue) => new(name, AttributeType.Tensor, from, before);
    private static AttributeSchema Floats(string name, int from = 1, int before = int.MaxValue) => new(name, AttributeType.Floats, from, before);
    private static AttributeSchema Strings(string name, int from = 1, int before = int.MaxValue) => new(name, AttributeType.Strings, from, before);

    /// <summary>The legacy broadcast flags of element-wise arithmetic before opset 7.</summary>
    private static readonly AttributeSchema[] LegacyBroadcast = { Int("broadcast", before: 7), Int("axis", before: 7) };

    private static readonly AttributeSchema[] PoolWindow =
    {
        String("auto_pad"), Int("ceil_mode", 10), Ints("dilations", 10), Ints("kernel_shape"), Ints("pads"), Ints("strides"),
    };

    private static OperatorSchema Op(string name, int since, int minInputs, int maxInputs, int outputs, params AttributeSchema[] attributes) =>
        new(name, since, minInputs, maxInputs, outputs, attributes);

    private static readonly Dictionary<string, OperatorSchema> Known = new[]
    {
        Op("Gemm", 1, 2, 3, 1, Float("alpha"), Float("beta"), Int("transA"), Int("transB"), Int("broadcast", before: 7)),
        Op("MatMul", 1, 2, 2, 1),
        Op("Add", 1, 2, 2, 1, LegacyBroadcast),
        Op("Sub", 1, 2, 2, 1, LegacyBroadcast),
        Op("Mul", 1, 2, 2, 1, LegacyBroadcast),
        Op("Div", 1, 2, 2, 1, LegacyBroadcast),
        Op("Pow", 1, 2, 2, 1, LegacyBroadcast),
        Op("Relu", 1, 1, 1, 1),
        Op("Erf", 9, 1, 1, 1),
        Op("Sqrt", 1, 1, 1, 1),
        Op("Tanh", 1, 1, 1, 1),
        Op("Sigmoid", 1, 1, 1, 1),
        Op("Exp", 1, 1, 1, 1),
        Op("Neg", 1, 1, 1, 1),
        Op("Abs", 1, 1, 1, 1),
        Op("Reciprocal", 1, 1, 1, 1),
        Op("Gelu", 20, 1, 1, 1, String("approximate")),
        Op("Log", 6, 1, 1, 1),
        Op("LeakyRelu", 6, 1, 1, 1, Float("alpha")),
        Op("PRelu", 6, 2, 2, 1),
        Op("Elu", 6, 1, 1, 1, Float("alpha")),
        Op("Selu", 6, 1, 1, 1, Float("alpha"), Float("gamma")),
        Op("Softplus", 1, 1, 1, 1),
        Op("Softsign", 1, 1, 1, 1),
        Op("HardSigmoid", 6, 1, 1, 1, Float("alpha"), Float("beta")),
        Op("HardSwish", 14, 1, 1, 1),
        Op("Clip", 6, 1, 3, 1, Float("min", before: 11), Float("max", before: 11)),
        Op("Max", 6, 1, int.MaxValue, 1),
        Op("Min", 6, 1, int.MaxValue, 1),
        Op("Sum", 6, 1, int.MaxValue, 1),
        Op("Mean", 6, 1, int.MaxValue, 1),
        Op("LogSoftmax", 1, 1, 1, 1, Int("axis")),
        Op("Squeeze", 1, 1, 2, 1, Ints("axes", before: 13)),
        Op("Unsqueeze", 1, 1, 2, 1, Ints("axes", before: 13)),
        Op("ReduceSum", 1, 1, 2, 1, Ints("axes", before: 13), Int("keepdims"), Int("noop_with_empty_axes", 13)),
        Op("ReduceMax", 1, 1, 2, 1, Ints("axes", before: 18), Int("keepdims"), Int("noop_with_empty_axes", 18)),
        Op("ReduceMin", 1, 1, 2, 1, Ints("axes", before: 18), Int("keepdims"), Int("noop_with_empty_axes", 18)),
        Op("Shape", 1, 1, 1, 1, Int("start", 15), Int("end", 15)),
        Op("Size", 1, 1, 1, 1),
        Op("ConstantOfShape", 9, 1, 1, 1, Tensor("value")),
        Op("Range", 11, 3, 3, 1),
        Op("Cast", 6, 1, 1, 1, Int("to"), Int("saturate", 19)),
        Op("Slice", 1, 1, 5, 1, Ints("starts", before: 10), Ints("ends", before: 10), Ints("axes", before: 10)),
        Op("ConvTranspose", 1, 2, 3, 1, String("auto_pad"), Ints("dilations"), Int("group"), Ints("kernel_shape"), Ints("output_padding"), Ints("output_shape"), Ints("pads"), Ints("strides")),
        Op("Pad", 2, 1, 4, 1, String("mode"), Ints("pads", before: 11), Float("value", before: 11)),
        Op("Resize", 10, 2, 4, 1, String("mode"), String("coordinate_transformation_mode", 11), String("nearest_mode", 11), Float("cubic_coeff_a", 11),
            Int("exclude_outside", 11), Float("extrapolation_value", 11), Int("antialias", 18), Ints("axes", 18), String("keep_aspect_ratio_policy", 18)),
        Op("Tile", 6, 2, 2, 1),
        Op("Split", 2, 1, 2, int.MaxValue, Int("axis"), Ints("split", before: 13), Int("num_outputs", 18)),
        Op("InstanceNormalization", 6, 3, 3, 1, Float("epsilon")),
        Op("LRN", 1, 1, 1, 1, Float("alpha"), Float("beta"), Float("bias"), Int("size")),
        Op("Equal", 7, 2, 2, 1),
        Op("Greater", 7, 2, 2, 1),
        Op("Less", 7, 2, 2, 1),
        Op("GreaterOrEqual", 12, 2, 2, 1),
        Op("LessOrEqual", 12, 2, 2, 1),
        Op("And", 7, 2, 2, 1),
        Op("Or", 7, 2, 2, 1),
        Op("Xor", 7, 2, 2, 1),
        Op("Not", 1, 1, 1, 1),
        Op("Where", 9, 3, 3, 1),
        Op("LSTM", 7, 3, 8, 3, Floats("activation_alpha"), Floats("activation_beta"), Strings("activations"), Float("clip"), String("direction"), Int("hidden_size"), Int("input_forget"), Int("layout", 14)),
        Op("GRU", 7, 3, 6, 2, Floats("activation_alpha"), Floats("activation_beta"), Strings("activations"), Float("clip"), String("direction"), Int("hidden_size"), Int("linear_before_reset"), Int("layout", 14)),
        Op("If", 1, 1, 1, int.MaxValue, new AttributeSchema("then_branch", AttributeType.Graph), new AttributeSchema("else_branch", AttributeType.Graph)),
        Op("GlobalAveragePool", 1, 1, 1, 1),
        Op("GlobalMaxPool", 1, 1, 1, 1),
        Op("Softmax", 1, 1, 1, 1, Int("axis")),
        Op("LayerNormalization", 17, 2, 3, 3, Int("axis"), Float("epsilon"), Int("stash_type")),
        Op("Transpose", 1, 1, 1, 1, Ints("perm")),
        Op("ReduceMean", 1, 1, 2, 1, Ints("axes", before: 18), Int("keepdims"), Int("noop_with_empty_axes", 18)),
        Op("Concat", 1, 1, int.MaxValue, 1, Int("axis")),
        Op("Gather", 1, 2, 2, 1, Int("axis")),
        Op("Flatten", 1, 1, 1, 1, Int("axis")),
        Op("Reshape", 5, 2, 2, 1, Int("allowzero", 14)),
        Op("Identity", 1, 1, 1, 1),
        Op("Dropout", 1, 1, 3, 2, Float("ratio", before: 12), Int("is_test", before: 7), Int("seed", 12)),
        Op("Conv", 1, 2, 3, 1, String("auto_pad"), Ints("dilations"), Int("group"), Ints("kernel_shape"), Ints("pads"), Ints("strides")),
        Op("MaxPool", 1, 1, 1, 2, PoolWindow.Concat(new[] { Int("storage_order", 8) }).ToArray()),
        Op("AveragePool", 1, 1, 1, 1, PoolWindow.Select(a => a.Name == "dilations" ? Ints("dilations", 19) : a).Concat(new[] { Int("count_include_pad", 7) }).ToArray()),
        Op("BatchNormalization", 1, 5, 5, 5, Float("epsilon"), Float("momentum"), Int("spatial", before: 9), Int("is_test", before: 7), Int("training_mode", 14)),
        Op("Constant", 1, 0, 0, 1, Tensor("value"), Float("value_float", 12), Ints("value_floats", 12), Int("value_int", 12), Ints("value_ints", 12),
            String("value_string", 12), new AttributeSchema("value_strings", AttributeType.Strings, 12), new AttributeSchema("sparse_value", AttributeType.SparseTensor, 11)),
    }.ToDictionary(o => o.Name, o => o, System.StringComparer.Ordinal);

    public static bool TryGet(string op, out OperatorSchema schema) => Known.TryGetValue(op, out schema!);

    /// <summary>Every supported operator's schema, by name.</summary>
    public static IEnumerable<OperatorSchema> All => Known.Values.OrderBy(o => o.Name, System.StringComparer.Ordinal);

    /// <summary>Every supported operator, for the unsupported-operator diagnostic.</summary>
    public static string SupportedList => string.Join(", ", Known.Keys.OrderBy(k => k, System.StringComparer.Ordinal));
}
