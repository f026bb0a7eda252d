// The sample models, compiled by the Qtaml generator: one class per model. Each is compiled for the 2nm node as an
// application would ship it; every other plan a campaign or study needs (another allocator, budget, flip model or
// operating point, or plain 8-bit codes with no flips) is laid out at run time from the class's quantized model
// (Quantized.CreateImage) and run by the same class.
using Qtaml;

namespace Qtaml.Sample.Models;

/// <summary>
/// The digits CNN (a LeNet-5) as an application ships it: 2nm physics (p10 = 0.10, p01 = 0 at the end of the 64 ms
/// window), TAC, calibrated on 256 held-out digits, at the budget the build recommends for 95% of decisions kept at
/// the window's end.
/// </summary>
[TunnelingCompensated("Models/digits-cnn.onnx", Node = "2nm", Bits = 8, EccBudget = 0.532, Calibration = "Models/calibration.npy")]
public static partial class Digits { }

/// <summary>The digits MLP (784-128-64-10) for 2nm, calibrated, at its recommended budget.</summary>
[TunnelingCompensated("Models/digits-mlp.onnx", Node = "2nm", EccBudget = 0.172, Calibration = "Models/calibration.npy")]
public sealed partial class MlpNode { }

/// <summary>The digits transformer encoder (rows of a digit as 28 tokens, one block, four heads) for 2nm, calibrated, at its recommended budget.</summary>
[TunnelingCompensated("Models/digits-transformer.onnx", Node = "2nm", EccBudget = 1.235, Calibration = "Models/calibration.npy")]
public sealed partial class TransformerNode { }

/// <summary>
/// A MobileNet-style net (a stem convolution, then depthwise 3x3 stride-2 and pointwise 1x1 blocks; tools/Qtaml.Train
/// --only separable), 8-bit with no flips: the shape of the small vision nets people bring, and what quantization
/// alone costs them.
/// </summary>
[TunnelingCompensated("Models/digits-separable.onnx", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0)]
public static partial class Separable8Bit { }

/// <summary>The compiled model of each campaign model name.</summary>
public static class SampleModels
{
    public static readonly string[] Names = { "cnn", "mlp", "transformer" };

    public static Plans.CompiledVariant Of(string model) => model switch
    {
        "cnn" => Plans.CompiledVariant.Of<Digits.Compiled>(),
        "mlp" => Plans.CompiledVariant.Of<MlpNode>(),
        "transformer" => Plans.CompiledVariant.Of<TransformerNode>(),
        _ => throw new ArgumentException($"Unknown model '{model}': use cnn, mlp or transformer.", nameof(model)),
    };
}
