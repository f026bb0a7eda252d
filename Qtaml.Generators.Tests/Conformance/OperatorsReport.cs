extern alias gen;
using System.Text;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Generators.Tests.Generator;
using OperatorSchemas = gen::Qtaml.Generators.Onnx.OperatorSchemas;
using OperatorSchema = gen::Qtaml.Generators.Onnx.OperatorSchema;

namespace Qtaml.Generators.Tests.Conformance;

/// <summary>
/// docs/operators.md: every operator the ONNX reader accepts (from its schema table), the opsets and attributes it
/// reads, how it is computed and what it does not do, and the tests that check it: the ONNX Runtime comparison
/// models that use it (found by reading their nodes) and the ONNX backend tests it passes.
/// </summary>
internal static class OperatorsReport
{
    /// <summary>How each operator is computed, and its limits; the reader's diagnostics say the same at build time.</summary>
    private static readonly Dictionary<string, string> Notes = new(StringComparer.Ordinal)
    {
        ["Abs"] = "element-wise", ["Add"] = "broadcasting (before opset 7 the legacy broadcast = 1, from axis too); a constant after a Conv/Gemm folds into its bias", ["And"] = "booleans as 1/0",
        ["AveragePool"] = "1-D/2-D/3-D, pads, count_include_pad, dilations (opset 19), ceil_mode (not with count_include_pad)",
        ["BatchNormalization"] = "inference only; folded into the Conv/Gemm before it, else a per-channel scale and shift",
        ["Cast"] = "of constants: folded (float, double, int32, int64, bool); of a value: to float32 or double (the identity: values stay float32), float16 (rounded to the nearest half) or bool (1 where not 0)",
        ["Clip"] = "bounds as attributes (<11) or constant inputs, infinite allowed; ReLU6", ["Concat"] = "values and constants; of constants: folded",
        ["Constant"] = "value, value_float(s), value_int(s)", ["ConstantOfShape"] = "folded at build time (size-bounded)",
        ["Conv"] = "1-D/2-D/3-D, groups, dilations, pads, auto_pad; quantized; 1-D/2-D vectorized (table, depthwise kernels), 3-D and odd groups by the direct kernel",
        ["ConvTranspose"] = "1-D/2-D as a zero-spreading copy and a stride-1 Conv (groups, dilations, output_padding, output_shape)",
        ["Div"] = "broadcasting", ["Dropout"] = "inference: the identity; training_mode true is refused", ["Elu"] = "element-wise",
        ["Equal"] = "booleans as 1/0", ["Erf"] = "element-wise", ["Exp"] = "element-wise",
        ["Flatten"] = "any axis; of constants: folded",
        ["GRU"] = "one step of one sample per call, state in and out; forward/reverse, default activations, linear_before_reset 0/1",
        ["Gather"] = "a constant table (an embedding, quantized) at constant indices or at an int64/int32 graph input's (token ids, passed to Run as whole floats and checked); of a value at constant indices, any axis; integer constants: folded",
        ["Gelu"] = "exact (erf) form", ["Gemm"] = "alpha, beta, transA, transB; with a constant B a quantized dense layer, with a computed B a product of values", ["GlobalAveragePool"] = "1-D/2-D/3-D", ["GlobalMaxPool"] = "1-D/2-D/3-D",
        ["Greater"] = "booleans as 1/0", ["GreaterOrEqual"] = "booleans as 1/0", ["HardSigmoid"] = "element-wise", ["HardSwish"] = "element-wise",
        ["Identity"] = "no step", ["If"] = "constant condition: only the taken branch; computed condition: both branches, each step guarded, then a Where",
        ["InstanceNormalization"] = "per image and channel over its positions", ["LSTM"] = "one step of one sample per call, state in and out; forward/reverse, default activations; no peepholes, clip or input_forget",
        ["LRN"] = "across channels, composed of x², an average pool over channels (zeros counted), Pow and Mul", ["LayerNormalization"] = "any axis (the axes from it normalized together), stash_type 1", ["LeakyRelu"] = "element-wise", ["Less"] = "booleans as 1/0", ["LessOrEqual"] = "booleans as 1/0",
        ["Log"] = "element-wise", ["LogSoftmax"] = "last axis (or the legacy 2-D coercion before opset 13)",
        ["MatMul"] = "with a constant matrix: quantized dense layer on the last axis; of two values: batched product",
        ["Max"] = "variadic, broadcasting", ["MaxPool"] = "1-D/2-D/3-D, pads, dilations, ceil_mode; no indices output", ["Mean"] = "variadic, broadcasting",
        ["Min"] = "variadic, broadcasting", ["Mul"] = "broadcasting", ["Neg"] = "element-wise", ["Not"] = "booleans as 1/0", ["Or"] = "booleans as 1/0",
        ["PRelu"] = "slope broadcast to the input (per channel before opset 7)", ["Pad"] = "constant, reflect, edge, wrap; constant pads",
        ["Pow"] = "broadcasting; x² and x^0.5 specialized", ["Range"] = "folded at build time", ["Reciprocal"] = "element-wise",
        ["ReduceMax"] = "any constant axes, keepdims", ["ReduceMean"] = "any constant axes, keepdims", ["ReduceMin"] = "any constant axes, keepdims",
        ["ReduceSum"] = "any constant axes, keepdims", ["Relu"] = "fused into the Conv/Gemm/Add before it where it can be",
        ["Resize"] = "nearest (4 rounding modes) and linear, constant scales or sizes, any axes; half_pixel, asymmetric, align_corners, pytorch_half_pixel, half_pixel_symmetric; as index-table copies (and weighted sums for linear); no cubic, antialias or tf_crop_and_resize", ["Reshape"] = "constant shape (0 copies a dimension, one -1), any axes; of constants: folded", ["Selu"] = "element-wise", ["Shape"] = "folded: shapes are known at build time",
        ["Sigmoid"] = "element-wise", ["Slice"] = "constant starts/ends/axes/steps, negative steps", ["Softmax"] = "last axis (or the legacy 2-D coercion before opset 13)",
        ["Softplus"] = "element-wise, overflow-safe", ["Softsign"] = "element-wise", ["Split"] = "constant sizes, or even; every output",
        ["Sqrt"] = "element-wise", ["Squeeze"] = "constant axes", ["Sub"] = "broadcasting", ["Tanh"] = "element-wise", ["Tile"] = "constant repeats",
        ["Transpose"] = "any permutation (unit axes dropped, axes that move together merged); of constants: folded", ["Unsqueeze"] = "constant axes", ["Where"] = "broadcasting, condition true where not 0",
        ["Xor"] = "booleans as 1/0",
    };

    /// <summary>Operators checked elsewhere than in the comparison models read below.</summary>
    private static readonly Dictionary<string, string> OtherTests = new(StringComparer.Ordinal)
    {
        ["If"] = "ControlFlowTests", ["LSTM"] = "RecurrentCellTests", ["GRU"] = "RecurrentCellTests",
        ["Shape"] = "ConstantFoldingTests", ["Range"] = "ConstantFoldingTests", ["ConstantOfShape"] = "ConstantFoldingTests",
        ["LRN"] = "across channels, composed of x², an average pool over channels (zeros counted), Pow and Mul", ["LayerNormalization"] = "EncoderOperatorTests", ["Gelu"] = "EncoderOperatorTests", ["Erf"] = "EncoderOperatorTests",
        ["Gather"] = "EncoderOperatorTests, IntegerInputTests, OperatorComparisonTests", ["MatMul"] = "EncoderOperatorTests", ["BatchNormalization"] = "OnnxRuntimeComparisonTests",
    };

    public static string Write(IReadOnlyList<BackendResult> results)
    {
        var compared = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        void Uses(string test, byte[] model)
        {
            foreach (string op in Nodes(ModelProto.Parser.ParseFrom(model).Graph))
            {
                if (!compared.TryGetValue(op, out var tests)) compared[op] = tests = new SortedSet<string>(StringComparer.Ordinal);
                tests.Add(test);
            }
        }
        foreach (string name in OperatorComparisonTests.Operators.Select(row => row.Data)) Uses("OperatorComparisonTests", OperatorComparisonTests.Build(name).Model);
        foreach (string name in KernelCoverageTests.Shapes.Select(row => row.Data)) Uses("KernelCoverageTests", KernelCoverageTests.Build(name).Build(new long[] { 1, 10 }));
        foreach ((string op, string test) in OtherTests)
        {
            if (!compared.TryGetValue(op, out var tests)) compared[op] = tests = new SortedSet<string>(StringComparer.Ordinal);
            tests.Add(test);
        }

        var s = new StringBuilder();
        s.Append("# Operators\n\n");
        s.Append("Generated by `OnnxBackendConformanceTests` from the reader's operator table and the tests (re-approve with\n");
        s.Append("`QTAML_APPROVE=1 dotnet test`; do not edit by hand). Qtaml reads opsets ")
            .Append(gen::Qtaml.Generators.Onnx.OperatorSchemas.MinOpset).Append(" to ").Append(gen::Qtaml.Generators.Onnx.OperatorSchemas.MaxOpset)
            .Append(" of the default ONNX domain. An\n");
        s.Append("operator not listed, an attribute not listed for its opset, or a use outside what the notes say is a build\n");
        s.Append("diagnostic (QTAML003 lists every unsupported operator of a model at once; QTAML005 names the node and the\n");
        s.Append("reason). Every value is float32 at run time; booleans are 1 and 0. Every value has a static shape and no axis is\n");
        s.Append("special: a fixed batch is the first dimension like any other. \"Tested against ONNX Runtime\" names the test classes whose\n");
        s.Append("models use the operator and compare float and 8-bit builds with ONNX Runtime; the last column counts the ONNX\n");
        s.Append("backend tests ([conformance.md](conformance.md)) that use it and pass.\n\n");
        s.Append("| Operator | Opsets | Attributes | How it is computed, limits | Tested against ONNX Runtime | ONNX backend tests passed |\n");
        s.Append("|---|---|---|---|---|---:|\n");
        foreach (OperatorSchema schema in OperatorSchemas.All)
        {
            var using_ = results.Where(r => r.Operators.Contains(schema.Name)).ToArray();
            int passed = using_.Count(r => r.Float.Outcome == Outcome.Pass);
            s.Append("| ").Append(schema.Name)
                .Append(" | ").Append(schema.SinceOpset).Append('+')
                .Append(" | ").Append(string.Join(", ", schema.Attributes.Select(Describe)).Replace("|", "\\|"))
                .Append(" | ").Append(Notes.TryGetValue(schema.Name, out string? note) ? note : "")
                .Append(" | ").Append(compared.TryGetValue(schema.Name, out var tests) ? string.Join(", ", tests) : "")
                .Append(" | ").Append(using_.Length == 0 ? "-" : passed + " of " + using_.Length)
                .Append(" |\n");
        }
        return s.ToString();
    }

    private static string Describe(gen::Qtaml.Generators.Onnx.AttributeSchema a) =>
        a.Name + (a.FromOpset > 1 && a.BeforeOpset != int.MaxValue ? " (" + a.FromOpset + "-" + (a.BeforeOpset - 1) + ")"
            : a.FromOpset > 1 ? " (" + a.FromOpset + "+)"
            : a.BeforeOpset != int.MaxValue ? " (<" + a.BeforeOpset + ")" : "");

    private static IEnumerable<string> Nodes(GraphProto graph) =>
        graph.Node.SelectMany(n => new[] { n.OpType }.Concat(n.Attribute.Where(a => a.G is not null).SelectMany(a => Nodes(a.G))));
}
