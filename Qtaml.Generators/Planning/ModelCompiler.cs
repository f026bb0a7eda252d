using System;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Qtaml.Generators.Calibration;
using Qtaml.Generators.Emit;
using Qtaml.Generators.Model;
using Qtaml.Generators.Lowering;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx;
using Qtaml.Generators.Parsing;
using Qtaml.Generators.Safetensors;
using Qtaml.Moments;
using Qtaml.Physics;
using Qtaml.Tac;

namespace Qtaml.Generators.Planning;

/// <summary>
/// One request from attribute to source: validate the arguments, find and read the weight file, plan, emit.
/// Every failure becomes a diagnostic on the argument that caused it; nothing throws into the compiler.
/// </summary>
internal static class ModelCompiler
{
    /// <summary>The most weights one class bakes: 64M, about 85 MB of generated source at 8 bits and 340 MB as floats (docs/benchmarks.md measures 25.5M).</summary>
    public const long MaxWeights = 64_000_000;

    /// <summary>How far above the budget TAC needs for the target a budget may be before it is reported as wasted, in bits per weight.</summary>
    public const double WasteTolerance = 0.25;

    public static readonly string Version = typeof(ModelCompiler).Assembly.GetName().Version?.ToString(3) ?? "1.0.0";

    public static GenerationResult Compile(CompileInput input, CancellationToken cancellationToken)
    {
        ModelRequest request = input.Request;
        BuildDefaults defaults = input.Defaults;
        var diagnostics = ImmutableArray.CreateBuilder<DiagnosticInfo>();
        GenerationResult Fail(DiagnosticInfo diagnostic)
        {
            diagnostics.Add(diagnostic);
            return Failed(request, diagnostics.ToArray());
        }

        TypeTarget target = request.Target;
        if (!target.IsPartial)
            return Fail(DiagnosticInfo.Create(Diagnostics.NotPartial, Argument.Class, target.DisplayName));
        if (target.Unsupported is not null)
            return Fail(DiagnosticInfo.Create(Diagnostics.UnsupportedTarget, Argument.Class, target.Unsupported));

        int bits = request.Bits ?? defaults.Bits ?? 8;
        if (request.Quantize && (bits < 2 || bits > 16))
            return Fail(DiagnosticInfo.Create(Diagnostics.BitsOutOfRange, Argument.Bits, bits));
        double budget = request.EccBudget ?? defaults.EccBudget ?? 1.0;
        if (request.Quantize && (double.IsNaN(budget) || budget < 0 || budget > bits))
            return Fail(DiagnosticInfo.Create(Diagnostics.BudgetOutOfRange, Argument.Budget, budget.ToString(CultureInfo.InvariantCulture), bits));

        if (request.Quantize && request.Encoding == 2 && bits > MeanCorrection.MaxSearchBits)
            return Fail(DiagnosticInfo.Create(Diagnostics.EncodingUnavailable, Argument.Encoding, MeanCorrection.MaxSearchBits, bits));

        int allocatorValue = request.Allocator ?? (int)Allocator.Tac;
        if (!Enum.IsDefined(typeof(Allocator), allocatorValue))
            return Fail(DiagnosticInfo.Create(Diagnostics.UnknownAllocator, Argument.Allocator, allocatorValue));
        var allocator = (Allocator)allocatorValue;

        double inputMeanSquare = 1;
        if (request.InputMeanSquare is double ms2 && ms2 != -1)
        {
            if (!(ms2 > 0) || double.IsInfinity(ms2))
                return Fail(DiagnosticInfo.Create(Diagnostics.InputMeanSquareOutOfRange, Argument.InputMeanSquare, ms2.ToString(CultureInfo.InvariantCulture)));
            inputMeanSquare = ms2;
        }

        double targetAgreement = BudgetForecast.DefaultTarget;
        if (request.TargetAgreement is double t && t != -1)
        {
            if (!(t > 0 && t <= 1)) return Fail(DiagnosticInfo.Create(Diagnostics.TargetAgreementOutOfRange, Argument.TargetAgreement, t.ToString(CultureInfo.InvariantCulture)));
            targetAgreement = t;
        }

        string nodeName = request.Node ?? defaults.Node ?? "2nm";
        if (!NodePresets.TryGet(nodeName, out NodePreset preset))
            return Fail(DiagnosticInfo.Create(Diagnostics.UnknownNode, Argument.Node, nodeName, string.Join(", ", NodePresets.Names))
                .WithReplacement(request.Node is null ? null : Emit.Escape.StringLiteral(NodePresets.Names.OrderBy(n => WeightFileLookup.EditDistance(n.ToLowerInvariant(), nodeName.ToLowerInvariant())).ThenBy(n => n, StringComparer.Ordinal).First())));

        // Node parameters: the attribute wins over MSBuild, MSBuild over the preset.
        double? retentionMs = Set(request.RetentionMilliseconds) ?? defaults.RetentionMilliseconds;
        double? holdVolts = Set(request.HoldVolts) ?? defaults.HoldVolts;
        double? reverse = Set(request.ReverseLeakRatio) ?? defaults.ReverseLeakRatio;
        string nodeLabel = preset.Name;
        FlipProbabilities flips;
        try
        {
            if (retentionMs is double ms) preset = preset.WithRetentionSeconds(ms / 1000);
            if (holdVolts is double v) preset = preset.WithHoldVolts(v);
            if (reverse is double eta) preset = preset.WithReverseLeakRatio(eta);
            flips = preset.FlipProbabilities;
        }
        catch (ArgumentException e)
        {
            return Fail(DiagnosticInfo.Create(Diagnostics.NodeParameterOutOfRange, Argument.NodeParameter, FirstLine(e.Message)));
        }
        if (retentionMs is not null || holdVolts is not null || reverse is not null)
            nodeLabel += " (" + string.Join(", ", new[]
            {
                retentionMs is double r ? "retention " + r.ToString(CultureInfo.InvariantCulture) + " ms" : null,
                holdVolts is double h ? "V_hold " + h.ToString(CultureInfo.InvariantCulture) + " V" : null,
                reverse is double e2 ? "eta " + e2.ToString(CultureInfo.InvariantCulture) : null,
            }.Where(x => x is not null)) + ")";
        // A node's flips grow through its retention window: compensate for the read-out averaged over it (DESIGN 3.2),
        // or for its end when asked. An explicit flip probability is static: no window.
        FlipProbabilities windowEnd = flips;
        CompensationPoint operatingPoint = request.OperatingPoint == (int)OperatingPoint.EndOfWindow ? CompensationPoint.EndOfWindow : CompensationPoint.WindowAverage;
        if (operatingPoint == CompensationPoint.WindowAverage) flips = RetentionModel.WindowAverage(windowEnd);
        if (request.FlipProbability is double p && p >= 0)
        {
            if (!(p < 0.5)) return Fail(DiagnosticInfo.Create(Diagnostics.FlipProbabilityOutOfRange, Argument.FlipProbability, p.ToString(CultureInfo.InvariantCulture)));
            flips = windowEnd = FlipProbabilities.Symmetric(p);
            operatingPoint = CompensationPoint.Static;
            // Named after the node only when one was named: an explicit probability alone is not 2nm's physics.
            string probability = p.ToString(CultureInfo.InvariantCulture);
            nodeLabel = request.Node is null && defaults.Node is null ? "p = " + probability : preset.Name + " (symmetric p = " + probability + ")";
        }

        string path = request.ModelPath ?? string.Empty;
        WeightFileMatch lookup = input.File;
        WeightFileText? file = lookup.File;
        if (lookup.Ambiguous.Count > 0)
            return Fail(DiagnosticInfo.Create(Diagnostics.AmbiguousFile, Argument.Path, path, string.Join("', '", lookup.Ambiguous)));
        if (lookup.NotEncoded)
            return Fail(DiagnosticInfo.Create(Diagnostics.FileNotEncoded, Argument.Path, path));
        if (file is null)
            return Fail(DiagnosticInfo.Create(Diagnostics.FileNotFound, Argument.Path, path, lookup.Suggestion is null ? "" : " Did you mean '" + lookup.Suggestion + "'?")
                .WithReplacement(lookup.Suggestion is null ? null : Emit.Escape.StringLiteral(lookup.Suggestion)));
        if (file.TooLargeBytes is { } tooLarge)
            return Fail(DiagnosticInfo.Create(Diagnostics.WeightFileTooLarge, Argument.Path, path, tooLarge.Bytes.ToString("N0", CultureInfo.InvariantCulture), tooLarge.Limit.ToString("N0", CultureInfo.InvariantCulture), MaxWeights.ToString("N0", CultureInfo.InvariantCulture)));
        cancellationToken.ThrowIfCancellationRequested();

        // Shape pins: the attribute's, else the weight file's MSBuild metadata.
        bool pinsFromAttribute = request.InputShape is not null || request.ConstantInputs is not null;
        string? shapeText = request.InputShape ?? file.InputShape, constantsText = request.ConstantInputs ?? file.ConstantInputs;
        InputPins pins;
        try
        {
            pins = InputPins.Parse(shapeText, constantsText);
        }
        catch (FormatException e)
        {
            bool shapeFailed = shapeText is not null && !TryParse(shapeText, null);
            return Fail(DiagnosticInfo.Create(Diagnostics.InvalidInputPin, pinsFromAttribute ? Argument.InputShape : Argument.Path,
                (shapeFailed ? "InputShape" : "ConstantInputs") + (pinsFromAttribute ? "" : " (MSBuild metadata Qtaml" + (shapeFailed ? "InputShape" : "ConstantInputs") + ")"),
                shapeFailed ? shapeText! : constantsText ?? "", e.Message));
        }

        NetworkGraph graph;
        byte[]? bytes = null;
        try
        {
            try { bytes = Convert.FromBase64String(file.Base64); }
            catch (FormatException) { throw new ModelReadException(Diagnostics.MalformedFile, path, "its base64 form in obj/ is corrupt; rebuild"); }
            // Sizes first, from the file's structure: a model far past the cap is refused before its tensors are copied.
            bool onnx = path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);
            long stored = onnx ? OnnxSizeScan.InitializerValues(bytes)
                : path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? SafetensorsReader.StoredValues(path, bytes) : 0;
            if (stored > MaxWeights)
                return Fail(DiagnosticInfo.Create(Diagnostics.ModelTooLarge, Argument.Path, path, stored.ToString("N0", CultureInfo.InvariantCulture), onnx ? "values in its initializers" : "values in its tensors", MaxWeights.ToString("N0", CultureInfo.InvariantCulture)));
            graph = Read(path, bytes, pins);
            long weights = ModelPlanner.WeightCount(graph);
            if (weights > MaxWeights) return Fail(DiagnosticInfo.Create(Diagnostics.ModelTooLarge, Argument.Path, path, weights.ToString("N0", CultureInfo.InvariantCulture), "weights in its weight layers", MaxWeights.ToString("N0", CultureInfo.InvariantCulture)));
            if (request.Quantize && weights == 0) throw new ModelReadException(Diagnostics.ShapeMismatch, path, path, "the model has no weight layers to quantize");
        }
        catch (ModelReadException e)
        {
            // A pin the model does not fit is reported where it is written: on the attribute's argument, if it is there.
            Argument where = e.Descriptor == Diagnostics.InvalidInputPin && pinsFromAttribute ? Argument.InputShape : Argument.Path;
            diagnostics.Add(DiagnosticInfo.Create(e.Descriptor, where, e.Arguments));
            // The failed class still declares the named members the model's ports would give it, if the file says what they are.
            var ports = bytes is not null && path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) ? OnnxReader.DeclaredPorts(bytes, pins) : null;
            return Failed(request, ports, diagnostics.ToArray());
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (graph.Float64Ports.Length > 0)
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.ComputedInFloat32, Argument.Path, string.Join(", ", graph.Float64Ports.Select(p => "'" + p + "'"))));

        // The kernels are chosen first: the weight image stores each layer's codes in the order its kernel reads them.
        KernelProgram program = ProgramCompiler.Compile(graph);
        CodeEncoding? encoding = request.Encoding switch { 1 => CodeEncoding.TwosComplement, 2 => CodeEncoding.SignMagnitude, _ => null };
        ModelPlan plan;
        if (request.Quantize && input.CalibrationFile is { } calibrationMatch)
        {
            // Calibration: the sensitivities measured through the float network's Jacobian, and a forecast of the decisions each plan keeps.
            Argument where = request.Calibration is not null ? Argument.Calibration : Argument.Path;
            string calibrationPath = request.Calibration ?? file.Calibration ?? string.Empty;
            NpyArray rows;
            try
            {
                rows = CalibrationInputs(calibrationMatch, calibrationPath, graph);
            }
            catch (FormatException e)
            {
                return Fail(DiagnosticInfo.Create(Diagnostics.CalibrationUnusable, where, calibrationPath, e.Message));
            }
            CalibrationProfile profile = CalibrationCache.GetOrMeasure(file.Base64, calibrationMatch.File!.Base64, (shapeText ?? "") + "|" + (constantsText ?? ""), graph, rows, cancellationToken);
            if (profile.Samples < profile.Offered || profile.Swept < profile.Samples) diagnostics.Add(Subsampled(profile, where, calibrationPath));
            var designer = new PlanDesigner(graph.Layers.OfType<WeightLayer>().ToArray(), profile.Sensitivity, bits, flips, encoding, windowEnd, readAfterRefresh: operatingPoint.HasWindow());
            BudgetForecast? forecast = profile.Agreement is { } model ? BudgetForecast.Make(designer, profile, model, targetAgreement, allocator, budget, cancellationToken) : null;
            // The first input's mean square, as the data-free estimate assumes of it (a row may hold further inputs after it).
            double measuredMeanSquare = profile.Inputs.Average(row => row.Take(graph.InputLength).Average(v => v * v));
            plan = ModelPlanner.Plan(graph, program, designer, nodeLabel, budget, allocator, measuredMeanSquare, operatingPoint, windowEnd, forecast);
        }
        else
            plan = ModelPlanner.Plan(graph, program, nodeLabel, flips, request.Quantize ? bits : 0, request.Quantize ? budget : 0, allocator, inputMeanSquare, operatingPoint, windowEnd, encoding);
        // Only TAC promises the best use of a budget; a baseline is compiled to be compared, so its budget is not judged.
        if (plan.IsQuantized && allocator == Allocator.Tac) ReportBudget(plan, nodeLabel, diagnostics);

        string source = ModelEmitter.Emit(request, path, plan, program, Version);
        return new GenerationResult(target.HintName, source, new EquatableArray<DiagnosticInfo>(diagnostics));
    }

    /// <summary>QTAML029: a network too large to calibrate on every input within the build's budget says on how many it was, and why.</summary>
    internal static DiagnosticInfo Subsampled(CalibrationProfile profile, Argument where, string path)
    {
        double standardError = Math.Sqrt(0.95 * 0.05 / profile.Samples) * 100;
        string Count(int n) => n.ToString(CultureInfo.InvariantCulture);
        string Work(long n) => n.ToString("G3", CultureInfo.InvariantCulture);
        return DiagnosticInfo.Create(Diagnostics.CalibrationSubsampled, where,
            Count(profile.Samples), Count(profile.Offered), path, Count(profile.Swept),
            Work(CalibrationProfile.PassCost(profile.Graph)), Count(CalibrationProfile.Sweeps(profile.Decision, profile.RowsPerInput)),
            Work(CalibrationProfile.MaxWork), Work(CalibrationProfile.MaxGradientWork), standardError.ToString("F1", CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The answer for a type that cannot be compiled: its diagnostics, and where the type can be declared, the
    /// same members throwing the first error's message, so the user reads that one error and no follow-on
    /// "does not contain a definition" errors at every call.
    /// </summary>
    public static GenerationResult Failed(ModelRequest request, params DiagnosticInfo[] diagnostics) => Failed(request, null, diagnostics);

    private static GenerationResult Failed(ModelRequest request, (string[] Inputs, Network.PortElement[] InputElements, string[] Outputs)? ports, DiagnosticInfo[] diagnostics)
    {
        TypeTarget target = request.Target;
        DiagnosticInfo? error = diagnostics.FirstOrDefault(d => d.Descriptor.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        string? source = target.CanDeclare && error is not null ? FailureEmitter.Emit(target, error.Descriptor.Id + ": " + error.Message, Version, ports) : null;
        return new GenerationResult(target.HintName, source, new EquatableArray<DiagnosticInfo>(diagnostics));
    }

    /// <summary>An attribute number that was given (the attribute uses −1 for "not set").</summary>
    private static double? Set(double? value) => value is double v && v >= 0 ? v : null;

    private static string FirstLine(string message)
    {
        int end = message.IndexOf('\n');
        return (end < 0 ? message : message.Substring(0, end)).Trim();
    }

    /// <summary>Whether a shape pin parses on its own (to say which of the two strings is wrong).</summary>
    private static bool TryParse(string? shape, string? constants)
    {
        try
        {
            InputPins.Parse(shape, constants);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static NetworkGraph Read(string path, byte[] bytes, InputPins pins)
    {
        if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) return OnnxReader.Read(path, bytes, pins);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            if (pins != InputPins.None) throw new ModelReadException(Diagnostics.InvalidInputPin, "InputShape/ConstantInputs", path, "a safetensors file gives its input shape in its header");
            return SafetensorsReader.Read(path, bytes);
        }
        throw new ModelReadException(Diagnostics.MalformedFile, path, "Qtaml reads .onnx and .safetensors files");
    }

    /// <summary>
    /// The calibration file's rows: found, decoded, read as .npy, and shaped like the model's input.
    /// </summary>
    /// <exception cref="FormatException">Why the file cannot be used.</exception>
    private static NpyArray CalibrationInputs(WeightFileMatch match, string path, NetworkGraph graph)
    {
        if (match.Ambiguous.Count > 0) throw new FormatException("the path matches several files ('" + string.Join("', '", match.Ambiguous) + "'); give each a distinct path");
        if (match.NotEncoded) throw new FormatException("it is in AdditionalFiles but was not encoded by the Qtaml package's build step; reference Qtaml.Generators as a PackageReference and rebuild");
        if (match.File is null)
            throw new FormatException("it is not among the project's files (the Qtaml package adds every *.npy under the project)" + (match.Suggestion is null ? "" : "; did you mean '" + match.Suggestion + "'?"));
        if (!path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) throw new FormatException("calibration inputs are a NumPy .npy file: save one with Qtaml.Calibration.CalibrationRecorder or NpyFile.Write, convert CSV, raw float32 or images with `qtaml calibration`, or numpy.save(\"inputs.npy\", x.astype(numpy.float32))");
        byte[] bytes;
        try { bytes = Convert.FromBase64String(match.File.Base64); }
        catch (FormatException) { throw new FormatException("its base64 form in obj/ is corrupt; rebuild"); }
        NpyArray rows = NpyReader.Read(bytes, CalibrationProfile.MaxSamples);
        if (rows.Rows == 0) throw new FormatException("it holds no samples");
        if (graph.Inputs.Length > 1 && rows.RowLength != graph.AllInputsLength)
            throw new FormatException("its samples have " + rows.RowLength + " values (shape " + Shape.Format(rows.Shape) + ") and the model's " + graph.Inputs.Length + " inputs "
                + string.Join(", ", graph.Inputs.Select(p => p.Name + " " + Shape.Format(graph.ValueShape(p.Value)))) + " have " + graph.AllInputsLength
                + " together; save an array of shape [N, " + graph.AllInputsLength + "], one sample a row holding every input in that order (as Run takes them), or pin inputs with ConstantInputs");
        if (rows.RowLength != graph.AllInputsLength)
            throw new FormatException("its samples have " + rows.RowLength + " values (shape " + Shape.Format(rows.Shape) + ") and the model's input " + Shape.Format(graph.InputShape) + " has " + graph.InputLength + "; save an array of shape [N, " + string.Join(", ", graph.InputShape.Length > 1 && graph.InputShape[0] == 1 ? graph.InputShape.Skip(1) : graph.InputShape) + "], one input a row");
        for (int s = 0; s < rows.Rows; s++)
            if (rows.Row(s).Any(v => double.IsNaN(v) || double.IsInfinity(v))) throw new FormatException("sample " + s + " holds NaN or infinity");
        return rows;
    }

    private static void ReportBudget(ModelPlan plan, string nodeLabel, ImmutableArray<DiagnosticInfo>.Builder diagnostics)
    {
        string F(double v) => double.IsPositiveInfinity(v) ? "more than full protection" : v.ToString("F3", CultureInfo.InvariantCulture);
        string Share(double v) => v.ToString("P1", CultureInfo.InvariantCulture);
        // A budget a user is told to give is rounded up to the thousandth shown, so giving it meets the need; the
        // code fix's value is the same number.
        static double RoundedUp(double v) => double.IsPositiveInfinity(v) ? v : Math.Ceiling(v * 1000 - 1e-6) / 1000;
        static string Recommended(double v) => v.ToString("0.0##", CultureInfo.InvariantCulture);
        if (plan.Forecast is not { } forecast)
        {
            // No calibration: nothing to judge the budget against; say so, with the data-free bound.
            SaturationReport saturation = plan.Saturation!;
            // Sensitivities from the weights alone compound each layer's approximation: on a deep network say so.
            int layers = plan.Layers.Length;
            string rough = plan.SensitivitiesFromWeightsOnly
                ? " The layer sensitivities were estimated from the weights alone (the network is too large to evaluate at build time, or overflows on synthetic inputs)"
                  + (layers > 10 ? $", which over {layers} weight layers is rough: calibration measures them." : ".")
                : "";
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.BudgetUnchecked, Argument.Budget, F(plan.Budget), nodeLabel, F(RoundedUp(saturation.TacBudget)), F(RoundedUp(saturation.UniformMspBudget)), rough));
            return;
        }
        double needed = RoundedUp(forecast.TacBudget);
        // A node build is judged at the worst read of its window, its end.
        string where = plan.HasWindow ? nodeLabel + " at the end of the retention window" : nodeLabel;
        if (forecast.Agreement < forecast.Target)
        {
            var diagnostic = DiagnosticInfo.Create(Diagnostics.BudgetTooSmall, Argument.Budget, F(plan.Budget), Share(forecast.Agreement), where, Share(forecast.Target),
                F(needed), F(RoundedUp(forecast.UniformMspBudget)), F(RoundedUp(forecast.MagnitudeBudget)), forecast.Samples);
            diagnostics.Add(double.IsPositiveInfinity(needed) ? diagnostic : diagnostic.WithReplacement(Recommended(needed)));
        }
        else if (plan.Budget > needed + WasteTolerance)
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.BudgetWasted, Argument.Budget, F(plan.Budget), where, Share(forecast.Target), F(needed), Share(forecast.Agreement),
                F(plan.Budget - needed), forecast.Samples).WithReplacement(Recommended(needed)));
    }
}
