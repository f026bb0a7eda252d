using Qtaml;
using Qtaml.Tac;

namespace Qtaml.Benchmarks;

// The sample app's three models (linked from sample-app/Models in the project file), compiled as the inference
// benchmarks have always measured them: 8-bit, TAC at 1 protected bit per weight (p = 0.10; the encoder at its
// paper setting p = 0.05), and unquantized. The sample app itself now compiles one class per model.

[TunnelingCompensated("Models/digits-cnn.onnx", Quantize = false)] public static partial class CnnFloat { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 1.0, Allocator = Allocator.Tac)] public sealed partial class CnnTac100 { }
[TunnelingCompensated("Models/digits-mlp.onnx", Quantize = false)] public static partial class MlpFloat { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 1.0, Allocator = Allocator.Tac)] public sealed partial class MlpTac100 { }
[TunnelingCompensated("Models/digits-transformer.onnx", Quantize = false)] public static partial class TransformerFloat { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 1.0, Allocator = Allocator.Tac)] public sealed partial class TransformerTac100 { }
