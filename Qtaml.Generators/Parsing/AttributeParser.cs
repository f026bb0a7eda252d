using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Qtaml.Generators.Model;

namespace Qtaml.Generators.Parsing;

/// <summary>Turns an attributed type into an <see cref="AttributedType"/> of plain values: no symbols or syntax survive.</summary>
internal static class AttributeParser
{
    public const string AttributeName = "Qtaml.TunnelingCompensatedAttribute";

    public static AttributedType Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var declaration = (TypeDeclarationSyntax)context.TargetNode;
        AttributeData attribute = context.Attributes[0];
        var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        cancellationToken.ThrowIfCancellationRequested();

        string? path = attribute.ConstructorArguments.Length > 0 ? attribute.ConstructorArguments[0].Value as string : null;
        string? node = null;
        int? bits = null;
        double? budget = null, flip = null, retention = null, hold = null, reverse = null, inputMeanSquare = null;
        bool quantize = true;
        int? allocator = null;
        string? inputShape = null, constantInputs = null;
        int? operatingPoint = null, encoding = null;
        string? calibration = null;
        double? targetAgreement = null;
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
                case "InputShape": inputShape = value as string; break;
                case "ConstantInputs": constantInputs = value as string; break;
                case "OperatingPoint": operatingPoint = value is int o ? o : null; break;
                case "Encoding": encoding = value is int en ? en : null; break;
                case "Calibration": calibration = value as string; break;
                case "TargetAgreement": targetAgreement = value is double t ? t : null; break;
            }
        }

        AttributeArgumentSyntax[] arguments = syntax?.ArgumentList?.Arguments.ToArray() ?? System.Array.Empty<AttributeArgumentSyntax>();
        LocationInfo? Named(params string[] names) =>
            LocationInfo.From(arguments.FirstOrDefault(a => a.NameEquals is { } n && names.Contains(n.Name.Identifier.ValueText))?.Expression) ?? LocationInfo.From(syntax);

        var request = new ModelRequest(Target(type, declaration), path, node, bits, budget, flip, retention, hold, reverse, allocator, quantize, inputMeanSquare, inputShape, constantInputs, operatingPoint, encoding, calibration, targetAgreement);
        var locations = new RequestLocations(
            LocationInfo.From(declaration.Identifier.GetLocation()),
            LocationInfo.From(arguments.FirstOrDefault(a => a.NameEquals is null)?.Expression) ?? LocationInfo.From(syntax),
            Named("Node"),
            Named("Bits"),
            Named("EccBudget"),
            Named("FlipProbability"),
            Named("RetentionMilliseconds", "HoldVolts", "ReverseLeakRatio"),
            Named("InputMeanSquare"),
            Named("Allocator"),
            Named("InputShape", "ConstantInputs"),
            Named("Encoding"),
            Named("Calibration"),
            Named("TargetAgreement"));
        return new AttributedType(request, locations);
    }

    /// <summary>The type and the types around it, as the emitter must re-declare them, and why a model cannot go into it (if so).</summary>
    private static TypeTarget Target(INamedTypeSymbol type, TypeDeclarationSyntax declaration)
    {
        var containers = new List<ContainingType>();
        for (SyntaxNode? parent = declaration.Parent; parent is TypeDeclarationSyntax outer; parent = outer.Parent)
            containers.Insert(0, new ContainingType(Keyword(outer), outer.Identifier.ValueText, TypeParameters(outer), IsPartial(outer)));

        string keyword = Keyword(declaration);
        string display = string.Join(".", containers.Select(c => c.Name + c.TypeParameters).Concat(new[] { declaration.Identifier.ValueText + TypeParameters(declaration) }));
        string? unsupported =
            keyword == "interface" ? "'" + display + "' is an interface; put the attribute on a partial class"
            : keyword != "class" ? "'" + display + "' is a " + keyword + "; Qtaml adds its members to a partial class (static or not): declare 'partial class " + declaration.Identifier.ValueText + "'"
            : type.IsGenericType || containers.Any(c => c.TypeParameters.Length > 0) ? "'" + display + "' is generic (or nested in a generic type); a model's baked weights and code are the same for every type argument, so declare it in a non-generic class"
            : containers.FirstOrDefault(c => !c.IsPartial) is { } closed ? "'" + display + "' is nested in '" + closed.Name + "', which is not partial; add the partial modifier to every type around it"
            : null;

        return new TypeTarget(
            type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString(),
            new EquatableArray<ContainingType>(containers),
            keyword,
            declaration.Identifier.ValueText,
            TypeParameters(declaration),
            type.IsStatic,
            IsPartial(declaration),
            unsupported);
    }

    private static string Keyword(TypeDeclarationSyntax declaration) => declaration switch
    {
        RecordDeclarationSyntax record => record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) ? "record struct" : "record",
        StructDeclarationSyntax => "struct",
        InterfaceDeclarationSyntax => "interface",
        _ => "class",
    };

    private static string TypeParameters(TypeDeclarationSyntax declaration) =>
        declaration.TypeParameterList is { Parameters.Count: > 0 } list ? "<" + string.Join(", ", list.Parameters.Select(p => p.Identifier.ValueText)) + ">" : "";

    private static bool IsPartial(TypeDeclarationSyntax declaration) => declaration.Modifiers.Any(m => m.IsKind(SyntaxKind.PartialKeyword));
}
