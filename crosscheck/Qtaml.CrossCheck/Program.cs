using System.Globalization;
using System.Runtime.InteropServices;
using Qtaml;

// Usage: Qtaml.CrossCheck                 prints "model input output value" lines for every model and input
//        Qtaml.CrossCheck --compare FILE  runs the same and compares with FILE (another machine's output) within 1e-5
const int Inputs = 5;
var lines = new List<string>();
Run<Cnn8.Compiled>("cnn-8bit");
Run<CnnFloat.Compiled>("cnn-float");
Run<Mlp8.Compiled>("mlp-8bit");
Run<Encoder8.Compiled>("encoder-8bit");
Run<EncoderFloat.Compiled>("encoder-float");
Run<Separable8.Compiled>("separable-8bit");
Run<WideCnn8.Compiled>("wide-cnn-8bit");
Run<WideCnnFloat.Compiled>("wide-cnn-float");

if (args.Length == 2 && args[0] == "--compare")
{
    string[] reference = File.ReadAllLines(args[1]);
    if (reference.Length != lines.Count) { Console.Error.WriteLine($"{reference.Length} reference lines, {lines.Count} here"); return 1; }
    double worst = 0;
    for (int i = 0; i < lines.Count; i++)
    {
        string[] mine = lines[i].Split(' '), theirs = reference[i].Split(' ');
        if (mine[0] != theirs[0] || mine[1] != theirs[1] || mine[2] != theirs[2]) { Console.Error.WriteLine($"line {i}: '{lines[i]}' against '{reference[i]}'"); return 1; }
        double a = double.Parse(mine[3], CultureInfo.InvariantCulture), b = double.Parse(theirs[3], CultureInfo.InvariantCulture);
        worst = Math.Max(worst, Math.Abs(a - b) / Math.Max(1, Math.Abs(b)));
    }
    Console.WriteLine($"{RuntimeInformation.ProcessArchitecture}: {lines.Count} outputs of 8 models (each also split across 3 threads, bit for bit), largest difference from the reference {worst:G3} (bound 1e-5)");
    return worst <= 1e-5 ? 0 : 1;
}
foreach (string line in lines) Console.WriteLine(line);
return 0;

void Run<T>(string name) where T : ICompiledModel
{
    var random = new Random(2026);
    using var workers = new Qtaml.Threading.WorkerPool(3);
    for (int n = 0; n < Inputs; n++)
    {
        float[] input = Enumerable.Range(0, T.InputLength).Select(_ => (float)random.NextDouble()).ToArray(), output = new float[T.OutputLength], split = new float[T.OutputLength];
        T.Run(input, output);
        // The run split across threads computes every value as one thread does: the same bits, on every machine.
        T.Run(input, split, workers);
        if (!output.AsSpan().SequenceEqual(split)) throw new InvalidOperationException(name + ", input " + n + ": the run on 3 threads differs from the run on one");
        for (int i = 0; i < output.Length; i++) lines.Add(name + " " + n + " " + i + " " + output[i].ToString("R", CultureInfo.InvariantCulture));
    }
}

[TunnelingCompensated("Models/digits-cnn.onnx")] internal static partial class Cnn8;
[TunnelingCompensated("Models/digits-cnn.onnx", Quantize = false)] internal static partial class CnnFloat;
[TunnelingCompensated("Models/digits-mlp.onnx")] internal static partial class Mlp8;
[TunnelingCompensated("Models/digits-transformer.onnx", InputMeanSquare = 0.11)] internal static partial class Encoder8;
[TunnelingCompensated("Models/digits-transformer.onnx", Quantize = false)] internal static partial class EncoderFloat;
[TunnelingCompensated("Models/digits-separable.onnx")] internal static partial class Separable8;
[TunnelingCompensated("Models/wide-cnn.onnx")] internal static partial class WideCnn8;
[TunnelingCompensated("Models/wide-cnn.onnx", Quantize = false)] internal static partial class WideCnnFloat;
