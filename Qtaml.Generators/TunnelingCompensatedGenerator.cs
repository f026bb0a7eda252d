using Microsoft.CodeAnalysis;

namespace Qtaml.Generators;

/// <summary>
/// Compiles a weight file named by <c>[TunnelingCompensated]</c> into baked, TAC-compensated inference
/// code. The pipeline (parse the attribute, read the weights, plan, emit) arrives with the generator
/// issue; for now the generator registers nothing, so projects can already reference it.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class TunnelingCompensatedGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
    }
}
