using System;
using System.Collections.Immutable;
using System.Globalization;
using System.Threading;
using Microsoft.CodeAnalysis;
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

    /// <summary>Step names, for incremental-caching tests.</summary>
    public static class TrackingNames
    {
        /// <summary>Attributed classes parsed to requests.</summary>
        public const string Requests = nameof(Requests);

        /// <summary>Weight files read from AdditionalFiles.</summary>
        public const string WeightFiles = nameof(WeightFiles);

        /// <summary>MSBuild defaults.</summary>
        public const string Defaults = nameof(Defaults);

        /// <summary>Compiled sources and diagnostics.</summary>
        public const string Results = nameof(Results);
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ModelRequest> requests = context.SyntaxProvider
            .ForAttributeWithMetadataName(AttributeParser.AttributeName,
                static (node, _) => node is ClassDeclarationSyntax,
                static (ctx, ct) => AttributeParser.Parse(ctx, ct))
            .WithTrackingName(TrackingNames.Requests);

        IncrementalValueProvider<ImmutableArray<WeightFileText>> files = context.AdditionalTextsProvider
            .Select(static (text, ct) => ReadWeightFile(text, ct))
            .Where(static file => file is not null)
            .Select(static (file, _) => file!)
            .WithTrackingName(TrackingNames.WeightFiles)
            .Collect();

        IncrementalValueProvider<BuildDefaults> defaults = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => ReadDefaults(options.GlobalOptions))
            .WithTrackingName(TrackingNames.Defaults);

        IncrementalValuesProvider<GenerationResult> results = requests
            .Combine(files)
            .Combine(defaults)
            .Select(static (input, ct) => CompileSafely(input.Left.Left, input.Left.Right, input.Right, ct))
            .WithTrackingName(TrackingNames.Results);

        context.RegisterSourceOutput(results, static (spc, result) =>
        {
            foreach (DiagnosticInfo diagnostic in result.Diagnostics) spc.ReportDiagnostic(diagnostic.ToDiagnostic());
            if (result.Source is not null) spc.AddSource(result.HintName, result.Source);
        });
    }

    private static GenerationResult CompileSafely(ModelRequest request, ImmutableArray<WeightFileText> files, BuildDefaults defaults, CancellationToken cancellationToken)
    {
        try
        {
            return ModelCompiler.Compile(request, files, defaults, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            // A bug of ours must not crash the user's build: report it on the attribute instead.
            var diagnostic = DiagnosticInfo.Create(Diagnostics.MalformedFile, request.PathLocation, request.ModelPath ?? string.Empty,
                "the generator failed unexpectedly (" + e.GetType().Name + ": " + e.Message + "); please report this");
            return new GenerationResult(request.HintName, null, new EquatableArray<DiagnosticInfo>(new[] { diagnostic }));
        }
    }

    /// <summary>A weight file's base64 form: a header line naming the original file, then the base64 text.</summary>
    private static WeightFileText? ReadWeightFile(AdditionalText text, CancellationToken cancellationToken)
    {
        if (!text.Path.EndsWith(".qtaml.b64", StringComparison.OrdinalIgnoreCase)) return null;
        string? content = text.GetText(cancellationToken)?.ToString();
        if (content is null || !content.StartsWith(WeightFileHeader, StringComparison.Ordinal)) return null;
        int newline = content.IndexOf('\n');
        if (newline < 0) return null;
        string original = content.Substring(WeightFileHeader.Length, newline - WeightFileHeader.Length).Trim();
        return new WeightFileText(original, content.Substring(newline + 1).Trim());
    }

    private static BuildDefaults ReadDefaults(AnalyzerConfigOptions options)
    {
        string? Property(string name) => options.TryGetValue("build_property." + name, out string? value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
        int? bits = int.TryParse(Property("QtamlBits"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int b) ? b : null;
        double? Number(string name) => double.TryParse(Property(name), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : null;
        return new BuildDefaults(Property("QtamlNode"), bits, Number("QtamlEccBudget"), Number("QtamlRetentionMs"), Number("QtamlHoldVolts"), Number("QtamlReverseLeakRatio"));
    }
}
