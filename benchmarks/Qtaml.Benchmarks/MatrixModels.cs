using Qtaml;
using Qtaml.Tac;

namespace Qtaml.Benchmarks;

// The benchmark matrix's other shapes, written with seeded random weights by
// `dotnet run -c Release --project tools/Qtaml.Train -- --benchmark-models` (tools/Qtaml.Train/BenchmarkModels.cs).
// Compiled like the sample's CnnTac100 (8-bit, p = 0.10, TAC at 1 protected bit per weight) and unquantized.

/// <summary>A CNN of 32, 96, 96 and 96 channels.</summary>
[TunnelingCompensated("Models/wide-cnn.onnx", FlipProbability = 0.10, EccBudget = 1.0, Allocator = Allocator.Tac)]
public static partial class WideCnnTac100 { }

[TunnelingCompensated("Models/wide-cnn.onnx", Quantize = false)]
public static partial class WideCnnFloat { }

/// <summary>A depthwise-separable (MobileNet-style) CNN up to 128 channels.</summary>
[TunnelingCompensated("Models/separable-cnn.onnx", FlipProbability = 0.10, EccBudget = 1.0, Allocator = Allocator.Tac)]
public static partial class SeparableCnnTac100 { }

[TunnelingCompensated("Models/separable-cnn.onnx", Quantize = false)]
public static partial class SeparableCnnFloat { }

/// <summary>A residual CNN: two blocks of two 3x3 convolutions at 32 channels.</summary>
[TunnelingCompensated("Models/residual-cnn.onnx", FlipProbability = 0.10, EccBudget = 1.0, Allocator = Allocator.Tac)]
public static partial class ResidualCnnTac100 { }

[TunnelingCompensated("Models/residual-cnn.onnx", Quantize = false)]
public static partial class ResidualCnnFloat { }
