using System;

namespace Qtaml;

/// <summary>
/// Asks the Qtaml source generator to compile a weight file into this class: quantized, compensated
/// for the tunneling bit flips of <see cref="Node"/>, with an ECC plan for <see cref="EccBudget"/>, and
/// baked in as allocation-free inference code.
/// </summary>
/// <example>
/// <code>
/// [TunnelingCompensated("Models/digits-cnn.onnx", Node = "2nm", Bits = 8, EccBudget = 1.0)]
/// public static partial class Digits;
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class TunnelingCompensatedAttribute : Attribute
{
    /// <summary>Names the weight file, as it appears in the project's AdditionalFiles.</summary>
    public TunnelingCompensatedAttribute(string modelPath) => ModelPath = modelPath;

    /// <summary>The weight file (.onnx or .safetensors), relative to the project.</summary>
    public string ModelPath { get; }

    /// <summary>The process-node preset: "7nm", "5nm", "3nm", "2nm" or "A14". Defaults to the MSBuild property QtamlNode, else "2nm".</summary>
    public string? Node { get; set; }

    /// <summary>The bit width of every stored weight, 2..16. Default 8.</summary>
    public int Bits { get; set; } = 8;

    /// <summary>The ECC budget in protected bits per weight, averaged over the network, 0..Bits. Default 1.</summary>
    public double EccBudget { get; set; } = 1.0;

    /// <summary>Overrides the node's flip probabilities with a symmetric p10 = p01 (the paper uses 0.10 and 0.05). Negative: not set.</summary>
    public double FlipProbability { get; set; } = -1;

    /// <summary>Overrides the node's retention window (time between refreshes), in milliseconds. Default: the preset's 64 ms (MSBuild: QtamlRetentionMs).</summary>
    public double RetentionMilliseconds { get; set; } = -1;

    /// <summary>Overrides the node's hold voltage across the gate stack, in volts (MSBuild: QtamlHoldVolts).</summary>
    public double HoldVolts { get; set; } = -1;

    /// <summary>Overrides the node's reverse-leak ratio η = p01-rate / p10-rate, in [0, 1] (MSBuild: QtamlReverseLeakRatio).</summary>
    public double ReverseLeakRatio { get; set; } = -1;

    /// <summary>
    /// The mean square of the model's input values, E[x²], for the data-free sensitivity estimate (DESIGN 3.5.2).
    /// In a plain chain (an MLP, a CNN) every layer's sensitivity scales with it alike and the plan ignores it; a
    /// network with LayerNormalization divides by its activations' scale, so the layers before the first
    /// normalization (a transformer's token embedding) weigh more or less against the rest depending on it.
    /// Default 1 (unit-scale inputs); pixels in [0, 1] are about 0.1. Negative: not set.
    /// </summary>
    public double InputMeanSquare { get; set; } = -1;

    /// <summary>
    /// Fixes the input shape where the file leaves a dimension symbolic (a sequence length, a sample count), batch
    /// first: <c>"1,16,96"</c> for a model's only input, or one per input by name, <c>"audio=1,16000; state=1,64"</c>.
    /// A fixed dimension must be given as the file has it. A symbolic leading batch dimension is 1 unless pinned.
    /// MSBuild, per weight file: <c>&lt;AdditionalFiles Update="model.onnx" QtamlInputShape="1,16,96" /&gt;</c>.
    /// </summary>
    public string? InputShape { get; set; }

    /// <summary>
    /// Which read-out of a node's retention window the stored codes are compensated for: the read-out averaged over
    /// the window (<see cref="Physics.OperatingPoint.WindowAverage"/>, the default: right on average at every
    /// moment, just after a refresh included) or its end (<see cref="Physics.OperatingPoint.EndOfWindow"/>). An
    /// explicit <see cref="FlipProbability"/> has no window and ignores it.
    /// </summary>
    public Physics.OperatingPoint OperatingPoint { get; set; } = Physics.OperatingPoint.WindowAverage;

    /// <summary>
    /// How the weight codes are laid out in their bits. <see cref="WeightEncoding.Automatic"/> (the default) picks,
    /// per build, the encoding whose protection plan predicts the least distortion at the node: sign-magnitude under
    /// one-way leaks, where two's complement's small negative weights are mostly charged bits. Force one to compare.
    /// </summary>
    public WeightEncoding Encoding { get; set; } = WeightEncoding.Automatic;

    /// <summary>
    /// Graph inputs that are constants of this build, by name, with their values in row-major order:
    /// <c>"sample_rate=16000"</c>, several separated by ';'. Such an input is not a parameter of Run, and what
    /// depends only on it is computed at build time. MSBuild, per weight file: QtamlConstantInputs.
    /// </summary>
    public string? ConstantInputs { get; set; }

    /// <summary>
    /// Which rule spends the ECC budget: <see cref="Tac.Allocator.Tac"/> (the default, the exact optimum), or a
    /// baseline to compare it with: <see cref="Tac.Allocator.UniformMsp"/>, <see cref="Tac.Allocator.MagnitudeBased"/>,
    /// <see cref="Tac.Allocator.None"/>.
    /// </summary>
    public Tac.Allocator Allocator { get; set; } = Tac.Allocator.Tac;

    /// <summary>
    /// Unlabeled calibration inputs: a NumPy .npy file (float32, shape [N, input...]: N samples of the model's first
    /// input) in the project, e.g. <c>"Models/calibration.npy"</c>. With them the build evaluates the float model on
    /// the first 256 samples, measures each layer's sensitivity through its Jacobian and each decision's margin,
    /// predicts the share of decisions the plan keeps under the faults, and states the budget each allocator needs
    /// for <see cref="TargetAgreement"/> (QTAML010, QTAML011, Info). Without them the budgets are a data-free bound.
    /// MSBuild, per weight file: <c>&lt;AdditionalFiles Update="model.onnx" QtamlCalibration="Models/calibration.npy" /&gt;</c>.
    /// </summary>
    public string? Calibration { get; set; }

    /// <summary>
    /// The share of calibration inputs whose decision (arg max of the output) must survive the faults for a budget to
    /// be enough, in (0, 1]. Default 0.95. Needs <see cref="Calibration"/>. Negative: not set.
    /// </summary>
    public double TargetAgreement { get; set; } = -1;

    /// <summary>
    /// false compiles an unquantized float reference build (no TAC, no weight image): for checking the
    /// generated code against another runtime. Default true.
    /// </summary>
    public bool Quantize { get; set; } = true;
}
