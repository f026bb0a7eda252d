extern alias gen;
using CompileInput = gen::Qtaml.Generators.Model.CompileInput;
using GenerationResult = gen::Qtaml.Generators.Model.GenerationResult;
using ModelCompiler = gen::Qtaml.Generators.Planning.ModelCompiler;

namespace Qtaml.Generators.Tests.Support;

/// <summary>
/// The generator's compile step with no safety net around it, in its own task and within a time bound: a hostile
/// file's exception surfaces as the exception it is, and a hang as a <see cref="TimeoutException"/>.
/// </summary>
internal static class BoundedCompile
{
    public static readonly TimeSpan PerCase = TimeSpan.FromSeconds(10);

    public static async Task<GenerationResult> Run(CompileInput input, string what)
    {
        Task<GenerationResult> run = Task.Run(() => ModelCompiler.Compile(input, CancellationToken.None), TestContext.Current.CancellationToken);
        if (await Task.WhenAny(run, Task.Delay(PerCase, TestContext.Current.CancellationToken)) != run)
            throw new TimeoutException($"{what} did not compile within {PerCase.TotalSeconds} s");
        return await run;
    }
}
