using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Qtaml.Runtime.Analyzers;

/// <summary>
/// Reports a <c>[TunnelingCompensated]</c> type in a project that does not have the Qtaml.Generators package.
/// The package's props make the MSBuild property <c>QtamlGeneratorsImported</c> visible to the compiler; when it
/// is missing, nothing will generate the model's members, and this says what to add.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class MissingGeneratorAnalyzer : DiagnosticAnalyzer
{
    public const string AttributeName = "Qtaml.TunnelingCompensatedAttribute";

    public static readonly DiagnosticDescriptor MissingGenerator = new(
        "QTAML023", "Qtaml.Generators is not referenced",
        "'{0}' has [TunnelingCompensated], but the project does not reference the Qtaml.Generators package, so nothing compiles its model; add it: dotnet add package Qtaml.Generators",
        "Qtaml", DiagnosticSeverity.Error, isEnabledByDefault: true,
        helpLinkUri: RepositoryLinks.Diagnostics + "qtaml023");

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(MissingGenerator);

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            bool generatorImported = start.Options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue("build_property.QtamlGeneratorsImported", out string? value)
                && string.Equals(value?.Trim(), "true", System.StringComparison.OrdinalIgnoreCase);
            INamedTypeSymbol? attribute = start.Compilation.GetTypeByMetadataName(AttributeName);
            if (generatorImported || attribute is null) return;
            start.RegisterSymbolAction(symbol =>
            {
                var type = (INamedTypeSymbol)symbol.Symbol;
                foreach (AttributeData data in type.GetAttributes())
                    if (SymbolEqualityComparer.Default.Equals(data.AttributeClass, attribute))
                        symbol.ReportDiagnostic(Diagnostic.Create(MissingGenerator, type.Locations.Length > 0 ? type.Locations[0] : null, type.Name));
            }, SymbolKind.NamedType);
        });
    }
}
