using Microsoft.CodeAnalysis;

namespace Qtaml.Generators;

/// <summary>Every diagnostic the generator reports, with stable IDs (tracked in AnalyzerReleases.*.md).</summary>
internal static class Diagnostics
{
    private const string Category = "Qtaml";
    private const string HelpBase = RepositoryLinks.Diagnostics;

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());

    private static DiagnosticDescriptor Warning(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());

    public static readonly DiagnosticDescriptor FileNotFound = Error("QTAML001", "Weight file not found",
        "The weight file '{0}' is not among the project's weight files.{1} The path is relative to the project and matched exactly; the Qtaml package adds every *.onnx and *.safetensors under the project (add <AdditionalFiles Include=\"...\" /> for one elsewhere, with Link to name it).");

    public static readonly DiagnosticDescriptor MalformedFile = Error("QTAML002", "Malformed weight file",
        "The weight file '{0}' cannot be read: {1}. Re-export the model, or check that the file is not truncated or a Git LFS pointer.");

    public static readonly DiagnosticDescriptor UnsupportedOperator = Error("QTAML003", "Unsupported operator",
        "The model '{0}' uses {1}, which Qtaml cannot compile. Supported: {2}.");

    public static readonly DiagnosticDescriptor UnsupportedDataType = Error("QTAML004", "Unsupported tensor data type",
        "The tensor '{1}' in '{0}' has data type {2}; Qtaml reads float32 tensors (ONNX type 1, safetensors F32). Export the model in float32, with float32 inputs.");

    public static readonly DiagnosticDescriptor ShapeMismatch = Error("QTAML005", "Shape or graph structure not supported",
        "The model '{0}' cannot be compiled at node '{1}': {2}");

    public static readonly DiagnosticDescriptor NotPartial = Error("QTAML006", "Class must be partial",
        "The type '{0}' has [TunnelingCompensated] but is not partial; add the partial modifier so the generator can add the inference code");

    public static readonly DiagnosticDescriptor UnknownNode = Error("QTAML007", "Unknown process node",
        "Unknown process node '{0}'. Known nodes: {1}.");

    public static readonly DiagnosticDescriptor BitsOutOfRange = Error("QTAML008", "Bit width out of range",
        "Bits = {0} is outside the supported range; use a width between 2 and 16");

    public static readonly DiagnosticDescriptor BudgetOutOfRange = Error("QTAML009", "ECC budget out of range",
        "EccBudget = {0} is not between 0 and Bits = {1} protected bits per weight");

    public static readonly DiagnosticDescriptor BudgetTooSmall = Warning("QTAML010", "ECC budget below the accuracy target",
        "EccBudget = {0} bits/weight is predicted to keep {1} of decisions at {2}, below the target {3}; TAC needs {4} bits/weight for it (Uniform-MSP {5}, magnitude-based {6}). Predicted on {7} calibration inputs.");

    public static readonly DiagnosticDescriptor BudgetWasted = Warning("QTAML011", "ECC budget far above the accuracy target",
        "EccBudget = {0} bits/weight is more than the target needs at {1}: TAC keeps {2} of decisions with {3} bits/weight (this budget: {4}), so {5} bits/weight buy little. Predicted on {6} calibration inputs; raise TargetAgreement to ask for more.");

    public static readonly DiagnosticDescriptor CalibrationUnusable = Error("QTAML026", "Calibration inputs cannot be used",
        "The calibration file '{0}' cannot be used: {1}");

    public static readonly DiagnosticDescriptor TargetAgreementOutOfRange = Error("QTAML027", "Target agreement out of range",
        "TargetAgreement = {0} is not a share in (0, 1]; 0.95 asks that 95% of decisions survive the faults");

    public static readonly DiagnosticDescriptor BudgetUnchecked = new("QTAML028", "ECC budget not checked against an accuracy target",
        "EccBudget = {0} bits/weight is not checked against an accuracy target at {1}: the build has no calibration inputs.{4} Give Calibration = \"inputs.npy\" (unlabeled samples of the model's input) to predict the decisions it keeps. Data-free bound: TAC reaches the quantization noise floor with {2} bits/weight (Uniform-MSP {3}).",
        Category, DiagnosticSeverity.Info, isEnabledByDefault: true, helpLinkUri: HelpBase + "qtaml028");

    public static readonly DiagnosticDescriptor CalibrationSubsampled = new("QTAML029", "Calibration used fewer inputs than given",
        "Calibration followed the decisions of the first {0} of the {1} inputs of '{2}' and took the float network's gradients on the first {3} of them: one input's decisions cost a forward pass of {4} multiply-adds of the build's double-precision reference, its gradients {5} backward sweeps more (two passes each), and a build spends at most {6} multiply-adds on calibration, {7} of them on gradients. The forecast's margins rest on {0} inputs (one standard error of a 95% share is {8} points), its sensitivities on {3}; put the most representative inputs first.",
        Category, DiagnosticSeverity.Info, isEnabledByDefault: true, helpLinkUri: HelpBase + "qtaml029");

    public static readonly DiagnosticDescriptor ComputedInFloat32 = new("QTAML030", "Float64 model computed in float32",
        "The model declares {0} float64; Qtaml computes it in float32, as its kernels do every model: Run takes and returns float spans, and results differ from a float64 evaluation by float32 rounding (a few parts in 10^7 per operation). Export the model in float32 to say so in the file.",
        Category, DiagnosticSeverity.Info, isEnabledByDefault: true, helpLinkUri: HelpBase + "qtaml030");

    public static readonly DiagnosticDescriptor LanguageVersionTooOld = Error("QTAML031", "C# 11 or later needed",
        "The class {0} generated by Qtaml needs C# 11 or later: its weights are baked as UTF-8 string literals. The project compiles C# {1}; remove its LangVersion setting (.NET 8's default is C# 12) or set it to 11 or later.");

    public static readonly DiagnosticDescriptor ModelTooLarge = Error("QTAML012", "Model too large to bake",
        "The model '{0}' holds {1} {2}; Qtaml bakes at most {3} weights into one class. Split the model or use fewer parameters.");

    public static readonly DiagnosticDescriptor WeightFileTooLarge = Error("QTAML032", "Weight file too large to encode",
        "The weight file '{0}' is {1} bytes; the build step encodes weight files of at most {2} bytes (room for the {3} weights Qtaml bakes into one class) and did not read it. Split the model or use fewer parameters.");

    public static readonly DiagnosticDescriptor FlipProbabilityOutOfRange = Error("QTAML013", "Flip probability out of range",
        "FlipProbability = {0} is not a probability in [0, 0.5); leave it unset to use the node's physics");

    public static readonly DiagnosticDescriptor NodeParameterOutOfRange = Error("QTAML015", "Node parameter out of range",
        "A node parameter override is not physical: {0}");

    public static readonly DiagnosticDescriptor UnknownAllocator = Error("QTAML016", "Unknown allocator",
        "Allocator = {0} is not one of Tac, UniformMsp, MagnitudeBased, None");

    public static readonly DiagnosticDescriptor InputMeanSquareOutOfRange = Error("QTAML017", "Input mean square out of range",
        "InputMeanSquare = {0} is not a positive, finite mean square of the input values (pixels in [0, 1] are about 0.1)");

    public static readonly DiagnosticDescriptor NonFiniteWeights = Error("QTAML014", "Weights are not finite",
        "The tensor '{1}' in '{0}' holds NaN or infinity; retrain or clean the checkpoint before compiling it");

    public static readonly DiagnosticDescriptor InternalError = Error("QTAML018", "Internal generator error",
        "Qtaml failed unexpectedly while compiling '{0}' ({1}). This is a bug in Qtaml, not in your model: please report it with the model file; meanwhile the class is not generated.");

    public static readonly DiagnosticDescriptor UnsupportedTarget = Error("QTAML019", "Unsupported attribute target",
        "[TunnelingCompensated] cannot compile a model into this type: {0}");

    public static readonly DiagnosticDescriptor UnsupportedOpset = Error("QTAML020", "Unsupported ONNX opset",
        "The model '{0}' imports opset {1} of the default ONNX domain; Qtaml reads opsets {2} to {3}. Re-export the model with an opset in that range (torch.onnx.export(..., opset_version=17)).");

    public static readonly DiagnosticDescriptor AmbiguousFile = Error("QTAML021", "Ambiguous weight file path",
        "The weight file path '{0}' matches several weight files ('{1}'); give each a distinct path (or Link) in the project");

    public static readonly DiagnosticDescriptor InvalidInputPin = Error("QTAML024", "Invalid input shape or constant input",
        "{0} = \"{1}\" cannot be used: {2}. Write a shape batch first (\"1,16,96\"), or one per input by name (\"audio=1,16000; state=1,64\"); constant inputs as \"name=value,value...\".");

    public static readonly DiagnosticDescriptor EncodingUnavailable = Error("QTAML025", "Encoding not available at this width",
        "Encoding = SignMagnitude is offered for codes of up to {0} bits and Bits = {1}; use fewer bits, or TwosComplement (or Automatic)");

    public static readonly DiagnosticDescriptor FileNotEncoded = Error("QTAML022", "Weight file not encoded",
        "The weight file '{0}' is in AdditionalFiles, but its encoded form (obj/qtaml/*.qtaml.b64, written by the QtamlEncodeWeightFiles target of the Qtaml.Generators package) is missing. Reference Qtaml.Generators as a PackageReference so its build/ targets are imported (a bare Analyzer reference skips them), then rebuild.");
}
