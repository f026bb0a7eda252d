// The sample models, compiled by the Qtaml generator. The campaign compares protection plans, and a plan
// changes what is stored (mean correction) and how it is read back, so each point of the campaign is its
// own compiled class: the same weights, the same node (2nm, here with the paper's symmetric p = 0.10), a
// different allocator or budget (the name holds it in hundredths of a bit per weight: CnnTac050 is TAC at 0.5). Digits (the first one) is the model an application would ship.
using Qtaml;
using Qtaml.Tac;

namespace Qtaml.Sample.Models;

// CNN: Models/digits-cnn.onnx
/// <summary>The CNN unquantized, as trained: the clean accuracy every fault campaign is measured against.</summary>
[TunnelingCompensated("Models/digits-cnn.onnx", Quantize = false)] public static partial class CnnFloat { }
/// <summary>
/// The digits CNN as an application ships it: 2nm physics (p10 = 0.10, p01 = 0 at the end of the 64 ms window), TAC,
/// calibrated on 256 held-out digits, at the budget the build recommends for 95% of decisions kept at the window's end.
/// </summary>
[TunnelingCompensated("Models/digits-cnn.onnx", Node = "2nm", Bits = 8, EccBudget = 0.25, Calibration = "Models/calibration.npy")]
public static partial class Digits { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 0.0, Allocator = Allocator.None)] public sealed partial class CnnNone000 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 1.0, Allocator = Allocator.UniformMsp)] public sealed partial class CnnUniform100 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 2.0, Allocator = Allocator.UniformMsp)] public sealed partial class CnnUniform200 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 3.0, Allocator = Allocator.UniformMsp)] public sealed partial class CnnUniform300 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 4.0, Allocator = Allocator.UniformMsp)] public sealed partial class CnnUniform400 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 0.25, Allocator = Allocator.MagnitudeBased)] public sealed partial class CnnMagnitude025 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 0.5, Allocator = Allocator.MagnitudeBased)] public sealed partial class CnnMagnitude050 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 0.75, Allocator = Allocator.MagnitudeBased)] public sealed partial class CnnMagnitude075 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 1.0, Allocator = Allocator.MagnitudeBased)] public sealed partial class CnnMagnitude100 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 1.25, Allocator = Allocator.MagnitudeBased)] public sealed partial class CnnMagnitude125 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 1.5, Allocator = Allocator.MagnitudeBased)] public sealed partial class CnnMagnitude150 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 2.0, Allocator = Allocator.MagnitudeBased)] public sealed partial class CnnMagnitude200 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 3.0, Allocator = Allocator.MagnitudeBased)] public sealed partial class CnnMagnitude300 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 4.0, Allocator = Allocator.MagnitudeBased)] public sealed partial class CnnMagnitude400 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 0.25, Allocator = Allocator.Tac)] public sealed partial class CnnTac025 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 0.5, Allocator = Allocator.Tac)] public sealed partial class CnnTac050 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 0.75, Allocator = Allocator.Tac)] public sealed partial class CnnTac075 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 1.0, Allocator = Allocator.Tac)] public sealed partial class CnnTac100 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 1.25, Allocator = Allocator.Tac)] public sealed partial class CnnTac125 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 1.5, Allocator = Allocator.Tac)] public sealed partial class CnnTac150 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 2.0, Allocator = Allocator.Tac)] public sealed partial class CnnTac200 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 3.0, Allocator = Allocator.Tac)] public sealed partial class CnnTac300 { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.10, EccBudget = 4.0, Allocator = Allocator.Tac)] public sealed partial class CnnTac400 { }

// MLP: Models/digits-mlp.onnx
/// <summary>The MLP unquantized, as trained.</summary>
[TunnelingCompensated("Models/digits-mlp.onnx", Quantize = false)] public static partial class MlpFloat { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 0.0, Allocator = Allocator.None)] public sealed partial class MlpNone000 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 1.0, Allocator = Allocator.UniformMsp)] public sealed partial class MlpUniform100 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 2.0, Allocator = Allocator.UniformMsp)] public sealed partial class MlpUniform200 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 3.0, Allocator = Allocator.UniformMsp)] public sealed partial class MlpUniform300 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 4.0, Allocator = Allocator.UniformMsp)] public sealed partial class MlpUniform400 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 0.25, Allocator = Allocator.MagnitudeBased)] public sealed partial class MlpMagnitude025 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 0.5, Allocator = Allocator.MagnitudeBased)] public sealed partial class MlpMagnitude050 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 0.75, Allocator = Allocator.MagnitudeBased)] public sealed partial class MlpMagnitude075 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 1.0, Allocator = Allocator.MagnitudeBased)] public sealed partial class MlpMagnitude100 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 1.25, Allocator = Allocator.MagnitudeBased)] public sealed partial class MlpMagnitude125 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 1.5, Allocator = Allocator.MagnitudeBased)] public sealed partial class MlpMagnitude150 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 2.0, Allocator = Allocator.MagnitudeBased)] public sealed partial class MlpMagnitude200 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 3.0, Allocator = Allocator.MagnitudeBased)] public sealed partial class MlpMagnitude300 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 4.0, Allocator = Allocator.MagnitudeBased)] public sealed partial class MlpMagnitude400 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 0.25, Allocator = Allocator.Tac)] public sealed partial class MlpTac025 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 0.5, Allocator = Allocator.Tac)] public sealed partial class MlpTac050 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 0.75, Allocator = Allocator.Tac)] public sealed partial class MlpTac075 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 1.0, Allocator = Allocator.Tac)] public sealed partial class MlpTac100 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 1.25, Allocator = Allocator.Tac)] public sealed partial class MlpTac125 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 1.5, Allocator = Allocator.Tac)] public sealed partial class MlpTac150 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 2.0, Allocator = Allocator.Tac)] public sealed partial class MlpTac200 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 3.0, Allocator = Allocator.Tac)] public sealed partial class MlpTac300 { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.10, EccBudget = 4.0, Allocator = Allocator.Tac)] public sealed partial class MlpTac400 { }

// Transformer: Models/digits-transformer.onnx, at the paper's transformer setting p = 0.05. Its inputs are pixels in
// [0, 1] with E[x²] = 0.11 over the data set; the encoder normalizes its activations, so the sensitivity estimate
// needs that scale (InputMeanSquare) to weigh the token embedding against the layers after the first LayerNorm.
/// <summary>The transformer encoder unquantized, as trained.</summary>
[TunnelingCompensated("Models/digits-transformer.onnx", Quantize = false)] public static partial class TransformerFloat { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 0.0, Allocator = Allocator.None)] public sealed partial class TransformerNone000 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 1.0, Allocator = Allocator.UniformMsp)] public sealed partial class TransformerUniform100 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 2.0, Allocator = Allocator.UniformMsp)] public sealed partial class TransformerUniform200 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 3.0, Allocator = Allocator.UniformMsp)] public sealed partial class TransformerUniform300 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 4.0, Allocator = Allocator.UniformMsp)] public sealed partial class TransformerUniform400 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 0.25, Allocator = Allocator.MagnitudeBased)] public sealed partial class TransformerMagnitude025 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 0.5, Allocator = Allocator.MagnitudeBased)] public sealed partial class TransformerMagnitude050 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 0.75, Allocator = Allocator.MagnitudeBased)] public sealed partial class TransformerMagnitude075 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 1.0, Allocator = Allocator.MagnitudeBased)] public sealed partial class TransformerMagnitude100 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 1.25, Allocator = Allocator.MagnitudeBased)] public sealed partial class TransformerMagnitude125 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 1.5, Allocator = Allocator.MagnitudeBased)] public sealed partial class TransformerMagnitude150 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 2.0, Allocator = Allocator.MagnitudeBased)] public sealed partial class TransformerMagnitude200 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 3.0, Allocator = Allocator.MagnitudeBased)] public sealed partial class TransformerMagnitude300 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 4.0, Allocator = Allocator.MagnitudeBased)] public sealed partial class TransformerMagnitude400 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 0.25, Allocator = Allocator.Tac)] public sealed partial class TransformerTac025 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 0.5, Allocator = Allocator.Tac)] public sealed partial class TransformerTac050 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 0.75, Allocator = Allocator.Tac)] public sealed partial class TransformerTac075 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 1.0, Allocator = Allocator.Tac)] public sealed partial class TransformerTac100 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 1.25, Allocator = Allocator.Tac)] public sealed partial class TransformerTac125 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 1.5, Allocator = Allocator.Tac)] public sealed partial class TransformerTac150 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 2.0, Allocator = Allocator.Tac)] public sealed partial class TransformerTac200 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 3.0, Allocator = Allocator.Tac)] public sealed partial class TransformerTac300 { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.05, InputMeanSquare = 0.11, EccBudget = 4.0, Allocator = Allocator.Tac)] public sealed partial class TransformerTac400 { }

/// <summary>Every campaign point, per model.</summary>
public static class Variants
{
    /// <summary>The unquantized network of a model: the reference for "clean accuracy".</summary>
    public static Func<float[], int> Clean(string model) => model switch
    {
        "cnn" => input => CnnFloat.Predict(input),
        "transformer" => input => TransformerFloat.Predict(input),
        _ => input => MlpFloat.Predict(input),
    };

    public static CampaignPoint[] Cnn => new[]
    {
        CampaignPoint.Of<CnnNone000>(),
        CampaignPoint.Of<CnnUniform100>(),
        CampaignPoint.Of<CnnUniform200>(),
        CampaignPoint.Of<CnnUniform300>(),
        CampaignPoint.Of<CnnUniform400>(),
        CampaignPoint.Of<CnnMagnitude025>(),
        CampaignPoint.Of<CnnMagnitude050>(),
        CampaignPoint.Of<CnnMagnitude075>(),
        CampaignPoint.Of<CnnMagnitude100>(),
        CampaignPoint.Of<CnnMagnitude125>(),
        CampaignPoint.Of<CnnMagnitude150>(),
        CampaignPoint.Of<CnnMagnitude200>(),
        CampaignPoint.Of<CnnMagnitude300>(),
        CampaignPoint.Of<CnnMagnitude400>(),
        CampaignPoint.Of<CnnTac025>(),
        CampaignPoint.Of<CnnTac050>(),
        CampaignPoint.Of<CnnTac075>(),
        CampaignPoint.Of<CnnTac100>(),
        CampaignPoint.Of<CnnTac125>(),
        CampaignPoint.Of<CnnTac150>(),
        CampaignPoint.Of<CnnTac200>(),
        CampaignPoint.Of<CnnTac300>(),
        CampaignPoint.Of<CnnTac400>(),
    };

    public static CampaignPoint[] Mlp => new[]
    {
        CampaignPoint.Of<MlpNone000>(),
        CampaignPoint.Of<MlpUniform100>(),
        CampaignPoint.Of<MlpUniform200>(),
        CampaignPoint.Of<MlpUniform300>(),
        CampaignPoint.Of<MlpUniform400>(),
        CampaignPoint.Of<MlpMagnitude025>(),
        CampaignPoint.Of<MlpMagnitude050>(),
        CampaignPoint.Of<MlpMagnitude075>(),
        CampaignPoint.Of<MlpMagnitude100>(),
        CampaignPoint.Of<MlpMagnitude125>(),
        CampaignPoint.Of<MlpMagnitude150>(),
        CampaignPoint.Of<MlpMagnitude200>(),
        CampaignPoint.Of<MlpMagnitude300>(),
        CampaignPoint.Of<MlpMagnitude400>(),
        CampaignPoint.Of<MlpTac025>(),
        CampaignPoint.Of<MlpTac050>(),
        CampaignPoint.Of<MlpTac075>(),
        CampaignPoint.Of<MlpTac100>(),
        CampaignPoint.Of<MlpTac125>(),
        CampaignPoint.Of<MlpTac150>(),
        CampaignPoint.Of<MlpTac200>(),
        CampaignPoint.Of<MlpTac300>(),
        CampaignPoint.Of<MlpTac400>(),
    };

    public static CampaignPoint[] Transformer => new[]
    {
        CampaignPoint.Of<TransformerNone000>(),
        CampaignPoint.Of<TransformerUniform100>(),
        CampaignPoint.Of<TransformerUniform200>(),
        CampaignPoint.Of<TransformerUniform300>(),
        CampaignPoint.Of<TransformerUniform400>(),
        CampaignPoint.Of<TransformerMagnitude025>(),
        CampaignPoint.Of<TransformerMagnitude050>(),
        CampaignPoint.Of<TransformerMagnitude075>(),
        CampaignPoint.Of<TransformerMagnitude100>(),
        CampaignPoint.Of<TransformerMagnitude125>(),
        CampaignPoint.Of<TransformerMagnitude150>(),
        CampaignPoint.Of<TransformerMagnitude200>(),
        CampaignPoint.Of<TransformerMagnitude300>(),
        CampaignPoint.Of<TransformerMagnitude400>(),
        CampaignPoint.Of<TransformerTac025>(),
        CampaignPoint.Of<TransformerTac050>(),
        CampaignPoint.Of<TransformerTac075>(),
        CampaignPoint.Of<TransformerTac100>(),
        CampaignPoint.Of<TransformerTac125>(),
        CampaignPoint.Of<TransformerTac150>(),
        CampaignPoint.Of<TransformerTac200>(),
        CampaignPoint.Of<TransformerTac300>(),
        CampaignPoint.Of<TransformerTac400>(),
    };
}

// Separable: Models/digits-separable.onnx, a MobileNet-style net (a stem convolution, then depthwise 3x3 stride-2 and
// pointwise 1x1 blocks), trained by tools/Qtaml.Train --only separable: the shape of the small vision nets people bring.
/// <summary>The MobileNet-style net unquantized, as trained.</summary>
[TunnelingCompensated("Models/digits-separable.onnx", Quantize = false)] public static partial class SeparableFloat { }
/// <summary>The MobileNet-style net with 8-bit weights and no flips: what its quantization alone costs.</summary>
[TunnelingCompensated("Models/digits-separable.onnx", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0)] public static partial class Separable8Bit { }

// The retention-window study (--window): each model compiled for the 2nm node as builds are made now (the window
// average, the encoding picked, calibrated, at the budget the build recommends: Digits, MlpNode, TransformerNode), and
// at 1 protected bit per weight in two's complement and as builds were made before (two's complement, the window's
// end); its plain 8-bit build (no flips) is the yardstick.
[TunnelingCompensated("Models/digits-cnn.onnx", Node = "2nm", EccBudget = 1.0, Encoding = WeightEncoding.TwosComplement)] public sealed partial class CnnTwos { }
[TunnelingCompensated("Models/digits-cnn.onnx", Node = "2nm", EccBudget = 1.0, OperatingPoint = Qtaml.Physics.OperatingPoint.EndOfWindow, Encoding = WeightEncoding.TwosComplement)] public sealed partial class CnnEndOfWindow { }
[TunnelingCompensated("Models/digits-cnn.onnx", FlipProbability = 0.0, EccBudget = 0.0)] public sealed partial class CnnPlain8 { }
[TunnelingCompensated("Models/digits-mlp.onnx", Node = "2nm", EccBudget = 0.094, Calibration = "Models/calibration.npy")] public sealed partial class MlpNode { }
[TunnelingCompensated("Models/digits-mlp.onnx", Node = "2nm", EccBudget = 1.0, Encoding = WeightEncoding.TwosComplement)] public sealed partial class MlpTwos { }
[TunnelingCompensated("Models/digits-mlp.onnx", Node = "2nm", EccBudget = 1.0, OperatingPoint = Qtaml.Physics.OperatingPoint.EndOfWindow, Encoding = WeightEncoding.TwosComplement)] public sealed partial class MlpEndOfWindow { }
[TunnelingCompensated("Models/digits-mlp.onnx", FlipProbability = 0.0, EccBudget = 0.0)] public sealed partial class MlpPlain8 { }
[TunnelingCompensated("Models/digits-transformer.onnx", Node = "2nm", EccBudget = 1.219, Calibration = "Models/calibration.npy")] public sealed partial class TransformerNode { }
[TunnelingCompensated("Models/digits-transformer.onnx", Node = "2nm", EccBudget = 1.0, InputMeanSquare = 0.11, Encoding = WeightEncoding.TwosComplement)] public sealed partial class TransformerTwos { }
[TunnelingCompensated("Models/digits-transformer.onnx", Node = "2nm", EccBudget = 1.0, InputMeanSquare = 0.11, OperatingPoint = Qtaml.Physics.OperatingPoint.EndOfWindow, Encoding = WeightEncoding.TwosComplement)] public sealed partial class TransformerEndOfWindow { }
[TunnelingCompensated("Models/digits-transformer.onnx", FlipProbability = 0.0, EccBudget = 0.0, InputMeanSquare = 0.11)] public sealed partial class TransformerPlain8 { }
