using System.Collections.Concurrent;
using System.Reflection;
using Qtaml.Plans;

namespace Qtaml.Generators.Tests.Support;

/// <summary>
/// Variants of a sample model compiled in process (the sample app declares one class per model; tests that compare a
/// build with another build compile the others here), cached per set of classes.
/// </summary>
internal static class InProcessModels
{
    private static readonly ConcurrentDictionary<string, Lazy<Assembly>> Compiled = new();

    /// <summary>The compiled class <paramref name="className"/> of <c>[TunnelingCompensated("Models/{file}"{arguments})]</c> for each class given.</summary>
    public static Type Class(string file, (string ClassName, string Arguments)[] classes, string className)
    {
        string source = "using Qtaml;\nnamespace InProcess;\n" + string.Join("\n", classes.Select(c =>
            "[TunnelingCompensated(\"Models/" + file + "\"" + c.Arguments + ")] public sealed partial class " + c.ClassName + " { }"));
        Assembly assembly = Compiled.GetOrAdd(source, _ => new Lazy<Assembly>(() =>
        {
            var files = new List<Microsoft.CodeAnalysis.AdditionalText> { GeneratorHarness.WeightFile("Models/" + file, File.ReadAllBytes(RepositoryPaths.Combine("sample-app", "Models", file))) };
            return GeneratorHarness.CompileAndLoad(GeneratorHarness.Run(source, files).Output);
        })).Value;
        return assembly.GetType("InProcess." + className, throwOnError: true)!;
    }

    public static CompiledVariant Variant(Type type) =>
        (CompiledVariant)typeof(CompiledVariant).GetMethod(nameof(CompiledVariant.Of))!.MakeGenericMethod(type).Invoke(null, null)!;

    /// <summary>The class's Run over its baked weights, as a delegate over arrays.</summary>
    public static Action<float[], float[]> Run(Type type) =>
        typeof(InProcessModels).GetMethod(nameof(RunOf), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type).CreateDelegate<Action<float[], float[]>>();

    private static void RunOf<TModel>(float[] input, float[] output) where TModel : ICompiledModel => TModel.Run(input, output);
}
