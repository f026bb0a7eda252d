using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Qtaml.Generators.Model;

namespace Qtaml.Generators.Parsing;

/// <summary>Turns an attributed class into a <see cref="ModelRequest"/> of plain values: no symbols or syntax survive.</summary>
internal static class AttributeParser
{
    public const string AttributeName = "Qtaml.TunnelingCompensatedAttribute";

    public static ModelRequest Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var declaration = (ClassDeclarationSyntax)context.TargetNode;
        AttributeData attribute = context.Attributes[0];
        var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        cancellationToken.ThrowIfCancellationRequested();

        string? path = attribute.ConstructorArguments.Length > 0 ? attribute.ConstructorArguments[0].Value as string : null;
        string? node = null;
        int? bits = null;
        double? budget = null, flip = null, retention = null, hold = null, reverse = null, inputMeanSquare = null;
        bool quantize = true;
        int? allocator = null;
        foreach (var named in attribute.NamedArguments)
        {
            object? value = named.Value.Value;
            switch (named.Key)
            {
                case "Node": node = value as string; break;
                case "Bits": bits = value is int b ? b : null; break;
                case "EccBudget": budget = value is double d ? d : null; break;
                case "FlipProbability": flip = value is double f ? f : null; break;
                case "RetentionMilliseconds": retention = value is double r ? r : null; break;
                case "HoldVolts": hold = value is double h ? h : null; break;
                case "ReverseLeakRatio": reverse = value is double e ? e : null; break;
                case "InputMeanSquare": inputMeanSquare = value is double m ? m : null; break;
                case "Quantize": quantize = value is not bool q || q; break;
                case "Allocator": allocator = value is int a ? a : null; break;
            }
        }

        AttributeArgumentSyntax[] arguments = syntax?.ArgumentList?.Arguments.ToArray() ?? System.Array.Empty<AttributeArgumentSyntax>();
        LocationInfo? Named(string name) =>
            LocationInfo.From(arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name)?.Expression) ?? LocationInfo.From(syntax);

        return new ModelRequest(
            type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString(),
            type.Name,
            SyntaxFacts.GetText(type.DeclaredAccessibility),
            type.IsStatic,
            declaration.Modifiers.Any(m => m.IsKind(SyntaxKind.PartialKeyword)),
            path,
            node,
            bits,
            budget,
            flip,
            retention,
            hold,
            reverse,
            allocator,
            quantize,
            LocationInfo.From(declaration.Identifier.GetLocation()),
            LocationInfo.From(arguments.FirstOrDefault(a => a.NameEquals is null)?.Expression) ?? LocationInfo.From(syntax),
            Named("Node"),
            Named("Bits"),
            Named("EccBudget"),
            Named("FlipProbability"),
            LocationInfo.From(arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText is "RetentionMilliseconds" or "HoldVolts" or "ReverseLeakRatio")?.Expression) ?? LocationInfo.From(syntax),
            inputMeanSquare,
            Named("InputMeanSquare"));
    }
}
