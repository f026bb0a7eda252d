using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Threading;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Qtaml.Generators.Model;
using Qtaml.Generators.Parsing;
using Qtaml.Generators.Planning;

namespace Qtaml.Generators;

/// <summary>
/// Compiles a weight file named by <c>[TunnelingCompensated]</c> into baked, TAC-compensated inference code.
/// Pipeline: the attributed classes (parsed to values at once) and the weight files (base64 text made by the
/// package's MSBuild step; see <c>build/Qtaml.Generators.targets</c>) and the MSBuild defaults are combined
/// per class, compiled to source and diagnostics, and emitted.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class TunnelingCompensatedGenerator : IIncrementalGenerator
{
    /// <summary>The first line of a weight file's base64 form: the marker and the original path follow.</summary>
    public const string WeightFileHeader = "qtaml-weights-base64 v1 ";

    /// <summary>What the build step writes instead of base64 for a file larger than it encodes (its size and the limit follow).</summary>
    public const string TooLargeMarker = "too-large ";

    /// <summary>Step names, for incremental-caching tests.</summary>
    public static class TrackingNames
    {
        /// <summary>Attributed types parsed to requests and their locations.</summary>
        public const string Requests = nameof(Requests);

        /// <summary>Weight files read from AdditionalFiles.</summary>
        public const string WeightFiles = nameof(WeightFiles);

        /// <summary>MSBuild defaults.</summary>
        public const string Defaults = nameof(Defaults);

        /// <summary>Each request with its own weight file and the defaults: cheap, re-run on any edit, equal when nothing it needs changed.</summary>
        public const string Inputs = nameof(Inputs);

        /// <summary>The expensive step: read, plan and emit one type. Cached unless its own input changed.</summary>
        public const string Results = nameof(Results);
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<AttributedType> attributed = context.SyntaxProvider
            .ForAttributeWithMetadataName(AttributeParser.AttributeName,
                static (node, _) => node is TypeDeclarationSyntax,
                static (ctx, ct) => AttributeParser.Parse(ctx, ct))
            .WithTrackingName(TrackingNames.Requests);

        IncrementalValueProvider<ImmutableArray<WeightFileText>> files = context.AdditionalTextsProvider
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Select(static (pair, ct) => ReadWeightFile(pair.Left, pair.Right.GetOptions(pair.Left), ct))
            .Where(static file => file is not null)
            .Select(static (file, _) => file!)
            .WithTrackingName(TrackingNames.WeightFiles)
            .Collect();

        // The models themselves, by path only: to tell "misspelt" from "present but not encoded" (the build step did not run).
        IncrementalValueProvider<ImmutableArray<string>> rawWeightFiles = context.AdditionalTextsProvider
            .Where(static text => text.Path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || text.Path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
                || text.Path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            .Select(static (text, _) => text.Path)
            .Collect();

        IncrementalValueProvider<BuildDefaults> defaults = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => ReadDefaults(options.GlobalOptions))
            .WithTrackingName(TrackingNames.Defaults);

        // Each type keeps only its own weight file and no locations, so the compile step below re-runs only when
        // what it reads changed: not for another class's file, not for a blank line above the class.
        IncrementalValuesProvider<CompileInput> inputs = attributed
            .Select(static (type, _) => type.Request)
            .Combine(files.Combine(rawWeightFiles))
            .Combine(defaults)
            .Select(static (input, _) => Pair(input.Left.Left, input.Left.Right.Left, input.Left.Right.Right, input.Right))
            .WithTrackingName(TrackingNames.Inputs);

        IncrementalValuesProvider<GenerationResult> results = inputs
            .Select(static (input, ct) => CompileSafely(input, ct))
            .WithTrackingName(TrackingNames.Results);

        context.RegisterSourceOutput(results, static (spc, result) =>
        {
            if (result.Source is not null) spc.AddSource(result.HintName, result.Source);
        });

        // Diagnostics get their locations last, from the syntax step, matched to their type by hint name, and are
        // placed in the compilation's own syntax trees (so the IDE squiggles the argument and code fixes apply).
        // Only this cheap reporting step sees the compilation; the compile step above never does.
        var located = results.Collect().Combine(attributed.Collect()).Combine(context.CompilationProvider);
        context.RegisterSourceOutput(located, static (spc, input) =>
        {
            var ((results, types), compilation) = input;
            var locations = new Dictionary<string, RequestLocations>(StringComparer.Ordinal);
            foreach (AttributedType type in types) locations[type.Request.Target.HintName] = type.Locations;
            foreach (GenerationResult result in results)
            {
                locations.TryGetValue(result.HintName, out RequestLocations? where);
                foreach (DiagnosticInfo diagnostic in result.Diagnostics) spc.ReportDiagnostic(diagnostic.ToDiagnostic(where, compilation));
                // The generated code bakes its weights in UTF-8 literals (C# 11): say so once, on the attribute, rather than as errors in generated code.
                bool compiled = result.Source is not null && !result.Diagnostics.Any(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);
                if (compiled && compilation is CSharpCompilation { LanguageVersion: < LanguageVersion.CSharp11 } csharp)
                    spc.ReportDiagnostic(DiagnosticInfo.Create(Diagnostics.LanguageVersionTooOld, Argument.Path, ClassName(result.HintName), csharp.LanguageVersion.ToDisplayString()).ToDiagnostic(where, compilation));
            }
        });
    }

    /// <summary>The class a hint name stands for: its full name, without the ".g.cs".</summary>
    private static string ClassName(string hintName) => hintName.EndsWith(".g.cs", StringComparison.Ordinal) ? hintName.Substring(0, hintName.Length - 5) : hintName;

    /// <summary>
    /// A request with its own files: the weight file it names, and the calibration file the attribute names or, failing
    /// that, the weight file's QtamlCalibration metadata names.
    /// </summary>
    private static CompileInput Pair(ModelRequest request, ImmutableArray<WeightFileText> files, ImmutableArray<string> rawFiles, BuildDefaults defaults)
    {
        WeightFileMatch model = WeightFileLookup.Find(files, rawFiles, request.ModelPath);
        string? calibration = request.Calibration ?? model.File?.Calibration;
        return new CompileInput(request, model, defaults, calibration is null ? null : WeightFileLookup.Find(files, rawFiles, calibration));
    }

    private static GenerationResult CompileSafely(CompileInput input, CancellationToken cancellationToken)
    {
        try
        {
            return ModelCompiler.Compile(input, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            // A bug of ours must not crash the user's build: report it on the attribute, under its own ID.
            var diagnostic = DiagnosticInfo.Create(Diagnostics.InternalError, Argument.Path, input.Request.ModelPath ?? string.Empty, e.GetType().Name + ": " + e.Message);
            return ModelCompiler.Failed(input.Request, diagnostic);
        }
    }

    /// <summary>A weight file's base64 form: a header line naming the original file, then the base64 text.</summary>
    private static WeightFileText? ReadWeightFile(AdditionalText text, AnalyzerConfigOptions metadata, CancellationToken cancellationToken)
    {
        if (!text.Path.EndsWith(".qtaml.b64", StringComparison.OrdinalIgnoreCase)) return null;
        string? content = text.GetText(cancellationToken)?.ToString();
        if (content is null || !content.StartsWith(WeightFileHeader, StringComparison.Ordinal)) return null;
        int newline = content.IndexOf('\n');
        if (newline < 0) return null;
        string original = content.Substring(WeightFileHeader.Length, newline - WeightFileHeader.Length).TrimEnd('\r');
        string? Metadata(string name) => metadata.TryGetValue("build_metadata.AdditionalFiles." + name, out string? value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
        string body = content.Substring(newline + 1).Trim();
        // The build step's stand-in for a file it would not read: "too-large <bytes> <limit>".
        (long, long)? tooLarge = null;
        if (body.StartsWith(TooLargeMarker, StringComparison.Ordinal))
        {
            string[] sizes = body.Substring(TooLargeMarker.Length).Split(' ');
            if (sizes.Length == 2 && long.TryParse(sizes[0], NumberStyles.None, CultureInfo.InvariantCulture, out long bytes) && long.TryParse(sizes[1], NumberStyles.None, CultureInfo.InvariantCulture, out long limit))
                (tooLarge, body) = ((bytes, limit), string.Empty);
        }
        return new WeightFileText(original, body, Metadata("QtamlInputShape"), Metadata("QtamlConstantInputs"), Metadata("QtamlCalibration")) { TooLargeBytes = tooLarge };
    }

    private static BuildDefaults ReadDefaults(AnalyzerConfigOptions options)
    {
        string? Property(string name) => options.TryGetValue("build_property." + name, out string? value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
        int? bits = int.TryParse(Property("QtamlBits"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int b) ? b : null;
        double? Number(string name) => double.TryParse(Property(name), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : null;
        return new BuildDefaults(Property("QtamlNode"), bits, Number("QtamlEccBudget"), Number("QtamlRetentionMs"), Number("QtamlHoldVolts"), Number("QtamlReverseLeakRatio"));
    }
}
