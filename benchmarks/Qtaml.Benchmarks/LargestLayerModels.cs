using Qtaml;
using Qtaml.Tac;

namespace Qtaml.Benchmarks;

// The sample CNN's largest layer alone (its second convolution, 6x14x14 -> 16x10x10, 5x5 kernel, 240,000
// multiply-accumulates, with its ReLU), cut out of sample-app/Models/digits-cnn.onnx by
// `dotnet run -c Release --project tools/Qtaml.Train -- --slice-conv2`. Compiled with the settings of CnnTac100
// (8-bit, p = 0.10, TAC at 1 protected bit per weight; alone, the layer gets a plan of its own, and QTAML010
// says 1 bit is too few for one layer at p = 0.10, which does not change its speed), and unquantized.

/// <summary>conv2 of the sample CNN as CnnTac100 compiles it.</summary>
[TunnelingCompensated("Models/cnn-conv2.onnx", FlipProbability = 0.10, EccBudget = 1.0, Allocator = Allocator.Tac)]
public static partial class Conv2Tac100 { }

/// <summary>conv2 of the sample CNN, unquantized.</summary>
[TunnelingCompensated("Models/cnn-conv2.onnx", Quantize = false)]
public static partial class Conv2Float { }
