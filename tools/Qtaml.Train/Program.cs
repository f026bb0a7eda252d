using System.Diagnostics;
using System.Globalization;
using Qtaml.Data;
using Qtaml.Train;

// Trains the sample models on the fixed 8,000-digit training split and exports them next to the sample app:
//   dotnet run -c Release --project tools/Qtaml.Train [-- --out sample-app/Models]
// Seeded: the same files on every machine (the two training threads split each batch the same way).
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string output = args.Length >= 2 && args[0] == "--out" ? args[1] : Path.Combine("sample-app", "Models");
Directory.CreateDirectory(output);
(MnistData train, MnistData test) = MnistData.Load(MnistData.DefaultPath());
Console.WriteLine($"MNIST: {train.Count} training and {test.Count} test digits");

var random = new Random(7);
Layer[] mlp =
{
    new Dense(784, 128, random), new Relu(new[] { 128 }),
    new Dense(128, 64, random), new Relu(new[] { 64 }),
    new Dense(64, 10, random),
};
TrainAndExport("mlp", mlp, new[] { 784 }, epochs: 12, learningRate: 2e-3f);

Layer[] cnn =
{
    new Conv(1, 28, 28, 6, 5, 2, random), new Relu(new[] { 6, 28, 28 }), new MaxPool2(6, 28, 28),
    new Conv(6, 14, 14, 16, 5, 0, random), new Relu(new[] { 16, 10, 10 }), new MaxPool2(16, 10, 10),
    new Flatten(400),
    new Dense(400, 120, random), new Relu(new[] { 120 }),
    new Dense(120, 84, random), new Relu(new[] { 84 }),
    new Dense(84, 10, random),
};
TrainAndExport("cnn", cnn, new[] { 1, 28, 28 }, epochs: 12, learningRate: 2e-3f);

void TrainAndExport(string name, Layer[] layers, int[] inputShape, int epochs, float learningRate)
{
    var trainer = new Trainer(layers, inputShape);
    var clock = Stopwatch.StartNew();
    trainer.Train(train, epochs, batchSize: 32, learningRate, decayPerEpoch: 0.75f, seed: 11, (epoch, loss) =>
        Console.WriteLine($"{name} epoch {epoch + 1}/{epochs}: loss {loss:F4}, test accuracy {trainer.Accuracy(test):P2} ({clock.Elapsed.TotalSeconds:F0} s)"));
    File.WriteAllBytes(Path.Combine(output, $"digits-{name}.onnx"), Export.Onnx(layers, inputShape, name));
    File.WriteAllBytes(Path.Combine(output, $"digits-{name}.safetensors"), Export.Safetensors(layers, inputShape));
    Console.WriteLine($"{name}: {layers.Sum(l => l.Weights.Length + l.Bias.Length)} parameters, test accuracy {trainer.Accuracy(test):P2}, written to {output}");
}
