extern alias gen;
using CompileInput = gen::Qtaml.Generators.Model.CompileInput;
using GenerationResult = gen::Qtaml.Generators.Model.GenerationResult;
using ModelCompiler = gen::Qtaml.Generators.Planning.ModelCompiler;

namespace Qtaml.Generators.Tests.Support;

/// <summary>
/// The generator's compile step with no safety net around it, on a thread of its own, bounded by the work it does
/// rather than by how busy the machine is: a hostile file's exception surfaces as the exception it is; a compile
/// that allocates more than <see cref="AllocationBound"/> on its thread (a size the file merely claims) is an
/// <see cref="InvalidOperationException"/>; and only a real hang, far past what any busy machine needs, is a
/// <see cref="TimeoutException"/>.
/// </summary>
internal static class BoundedCompile
{
    /// <summary>Bytes the compile of one hostile file may allocate on its thread: the largest test model needs a few MB.</summary>
    public const long AllocationBound = 256L * 1024 * 1024;

    /// <summary>A hang, not a slow machine: minutes where an unloaded machine needs well under a second.</summary>
    public static readonly TimeSpan HangBound = TimeSpan.FromMinutes(5);

    public static async Task<GenerationResult> Run(CompileInput input, string what)
    {
        long allocated = 0;
        Task<GenerationResult> run = Task.Factory.StartNew(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                return ModelCompiler.Compile(input, CancellationToken.None);
            }
            finally
            {
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            }
        }, TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (await Task.WhenAny(run, Task.Delay(HangBound, TestContext.Current.CancellationToken)) != run)
            throw new TimeoutException($"{what} did not compile within {HangBound.TotalMinutes} minutes");
        GenerationResult result = await run;
        if (allocated > AllocationBound)
            throw new InvalidOperationException($"{what} allocated {allocated:N0} bytes compiling, more than the {AllocationBound:N0} a hostile file may cost");
        return result;
    }
}
