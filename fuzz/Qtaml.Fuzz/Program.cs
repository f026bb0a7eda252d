extern alias gen;
using gen::Qtaml.Generators.Model;
using gen::Qtaml.Generators.Planning;
using SharpFuzz;

// Fuzz target: one input file goes through the generator's compile step (read, plan, emit) as an ONNX or a
// safetensors file. Malformed input must come back as a diagnostic; any exception is a bug, and AFL++ records
// the input that caused it.
//
//   Qtaml.Fuzz onnx|safetensors                 under afl-fuzz (reads each input from stdin, SharpFuzz protocol)
//   Qtaml.Fuzz replay onnx|safetensors FILE...  runs saved inputs directly, to reproduce a finding
if (args.Length == 0 || args[0] is not ("onnx" or "safetensors" or "replay"))
{
    Console.Error.WriteLine("usage: Qtaml.Fuzz onnx|safetensors  |  Qtaml.Fuzz replay onnx|safetensors FILE...");
    return 2;
}

if (args[0] == "replay")
{
    if (args.Length < 3) { Console.Error.WriteLine("usage: Qtaml.Fuzz replay onnx|safetensors FILE..."); return 2; }
    foreach (string file in args.Skip(2))
    {
        GenerationResult result = Compile(args[1], File.ReadAllBytes(file));
        var errors = result.Diagnostics.Where(d => d.Descriptor.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).ToArray();
        Console.WriteLine($"{file}: {(errors.Length > 0 ? string.Join("; ", errors.Select(d => d.Descriptor.Id + " " + d.Message)) : "valid, " + result.Source!.Length + " characters generated")}");
    }
    return 0;
}

string format = args[0];
Fuzzer.OutOfProcess.Run(stream =>
{
    using var memory = new MemoryStream();
    stream.CopyTo(memory);
    Compile(format, memory.ToArray());
});
return 0;

static GenerationResult Compile(string format, byte[] bytes)
{
    string path = "Models/fuzz." + format;
    var input = new CompileInput(ModelRequest.ForFile(path), new WeightFileText(path, Convert.ToBase64String(bytes)), new BuildDefaults(null, null, null));
    return ModelCompiler.Compile(input, CancellationToken.None);
}
