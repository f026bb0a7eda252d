using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Qtaml.CodeFixes;

/// <summary>
/// Puts the value the generator suggests in place of the attribute argument a diagnostic is on: the nearest
/// weight file for a misspelt path (QTAML001), the nearest known node (QTAML007), the budget TAC needs
/// (QTAML010, QTAML011). The generator computes the value (it knows the files, the nodes and the plan) and
/// passes it as the diagnostic's <c>QtamlReplacement</c> property; an argument that is not written (a budget
/// from MSBuild) is added to the attribute by its name, the <c>QtamlArgument</c> property.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ReplaceArgumentCodeFix)), Shared]
public sealed class ReplaceArgumentCodeFix : CodeFixProvider
{
    private const string ReplacementProperty = "QtamlReplacement";
    private const string ArgumentProperty = "QtamlArgument";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("QTAML001", "QTAML007", "QTAML010", "QTAML011");

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null) return;
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(ReplacementProperty, out string? replacement) || replacement is null) continue;
            diagnostic.Properties.TryGetValue(ArgumentProperty, out string? argument);
            SyntaxNode node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            string title = Title(diagnostic.Id, replacement);
            if (node.FirstAncestorOrSelf<AttributeArgumentSyntax>() is { } written)
            {
                context.RegisterCodeFix(CodeAction.Create(title, ct => Replace(context.Document, written, replacement, ct), equivalenceKey: diagnostic.Id), diagnostic);
            }
            else if (node.FirstAncestorOrSelf<AttributeSyntax>() is { } attribute && !string.IsNullOrEmpty(argument))
            {
                context.RegisterCodeFix(CodeAction.Create(title, ct => AddNamed(context.Document, attribute, argument!, replacement, ct), equivalenceKey: diagnostic.Id), diagnostic);
            }
        }
    }

    private static string Title(string id, string replacement) => id switch
    {
        "QTAML001" => "Use the weight file " + replacement,
        "QTAML007" => "Use the node " + replacement,
        _ => "Set EccBudget to " + replacement + " bits/weight",
    };

    private static async Task<Document> Replace(Document document, AttributeArgumentSyntax argument, string replacement, CancellationToken cancellationToken)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        ExpressionSyntax value = SyntaxFactory.ParseExpression(replacement).WithTriviaFrom(argument.Expression);
        return document.WithSyntaxRoot(root.ReplaceNode(argument.Expression, value));
    }

    private static async Task<Document> AddNamed(Document document, AttributeSyntax attribute, string name, string replacement, CancellationToken cancellationToken)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        AttributeArgumentSyntax added = SyntaxFactory.AttributeArgument(SyntaxFactory.ParseExpression(replacement))
            .WithNameEquals(SyntaxFactory.NameEquals(SyntaxFactory.IdentifierName(name)));
        AttributeArgumentListSyntax list = attribute.ArgumentList ?? SyntaxFactory.AttributeArgumentList();
        AttributeSyntax updated = attribute.WithArgumentList(list.AddArguments(added));
        return document.WithSyntaxRoot(root.ReplaceNode(attribute, updated));
    }
}
