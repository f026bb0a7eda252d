using System.Diagnostics;
using System.Globalization;
using Qtaml.Data;
using Qtaml.Train;

// Trains the sample models on the fixed 8,000-digit training split and exports them next to the sample app:
//   dotnet run -c Release --project tools/Qtaml.Train [-- --out sample-app/Models] [--only mlp|cnn|transformer|separable] [--separable] [--check] [--slice-conv2] [--benchmark-models]
// Seeded: the same files on every machine (the two training threads split each batch the same way).
// --only vgg|resnet (or --paper-cnns for both) trains the paper experiment's VGG-style and ResNet-style nets.
// --campaign-data writes the other test digits and their labels (digits-test.npy, digits-test-labels.npy) for qtaml campaign.
// --calibration writes the last 256 test digits as sample-app/Models/calibration.npy (the builds' calibration inputs) and exits.
// --check compares the transformer's hand-written gradients with central differences and exits.
// --slice-conv2 cuts the sample CNN's second convolution (node conv3, + ReLU) into benchmarks/Qtaml.Benchmarks/Models/cnn-conv2.onnx, so
// the benchmark can time the CNN's largest layer alone, and exits.
// --benchmark-models writes the benchmark matrix's other shapes (BenchmarkModels: a 96-channel CNN, a depthwise-separable
// net and a residual CNN, seeded random weights) into benchmarks/Qtaml.Benchmarks/Models/, and exits.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Contains("--benchmark-models"))
{
    string models = Path.Combine("benchmarks", "Qtaml.Benchmarks", "Models");
    Directory.CreateDirectory(models);
    foreach ((string name, byte[] onnx) in BenchmarkModels.All())
    {
        File.WriteAllBytes(Path.Combine(models, name + ".onnx"), onnx);
        Console.WriteLine(name + ".onnx written to " + models);
    }
    return 0;
}
if (args.Contains("--slice-conv2"))
{
    string models = Path.Combine("benchmarks", "Qtaml.Benchmarks", "Models");
    Directory.CreateDirectory(models);
    byte[] cnnFile = File.ReadAllBytes(Path.Combine("sample-app", "Models", "digits-cnn.onnx"));
    File.WriteAllBytes(Path.Combine(models, "cnn-conv2.onnx"), LayerSlice.ConvWithRelu(cnnFile, "conv3", new long[] { 6, 14, 14 }));
    Console.WriteLine("conv2 of digits-cnn.onnx written to " + Path.Combine(models, "cnn-conv2.onnx"));
    return 0;
}
string output = Option("--out") ?? Path.Combine("sample-app", "Models");
string? only = Option("--only");
Directory.CreateDirectory(output);
(MnistData train, MnistData test) = MnistData.Load(MnistData.DefaultPath());
Console.WriteLine($"MNIST: {train.Count} training and {test.Count} test digits");

if (args.Contains("--calibration"))
{
    // Unlabeled calibration inputs for the builds: the last 256 digits of the test split, held out from training (a
    // trained network is surer of its training digits, so they would overstate its margins) and from the campaigns,
    // which measure on the split's first digits.
    const int count = 256;
    float[] pixels = test.Images.Skip(test.Count - count).SelectMany(image => image).ToArray();
    string file = Path.Combine(output, "calibration.npy");
    File.WriteAllBytes(file, Qtaml.Calibration.NpyFile.ToBytes(pixels, count, 1, 28, 28));
    Console.WriteLine($"the last {count} test digits written to {file} as float32 [{count}, 1, 28, 28]");
    return 0;
}

if (args.Contains("--campaign-data"))
{
    // Inputs and labels for `qtaml campaign`: the test split's first digits (the last 256 are the calibration inputs).
    int count = test.Count - 256;
    File.WriteAllBytes(Path.Combine(output, "digits-test.npy"), Qtaml.Calibration.NpyFile.ToBytes(test.Images.Take(count).SelectMany(image => image).ToArray(), count, 1, 28, 28));
    File.WriteAllBytes(Path.Combine(output, "digits-test-labels.npy"), Qtaml.Calibration.NpyFile.ToBytes(test.Labels.Take(count).Select(l => (long)l).ToArray(), count));
    Console.WriteLine($"the first {count} test digits and their labels written to {output}/digits-test.npy and digits-test-labels.npy");
    return 0;
}

if (args.Contains("--check"))
{
    var probe = new Encoder(width: 16, heads: 2, hidden: 24, classes: 10, new Random(3));
    double worst = EncoderTrainer.GradientCheck(probe, train.Images[0], train.Labels[0]);
    Console.WriteLine($"transformer gradient check: largest relative error {worst:G3}");
    return worst < 0.05 ? 0 : 1;
}

var random = new Random(7);
Layer[] mlp =
{
    new Dense(784, 128, random), new Relu(new[] { 128 }),
    new Dense(128, 64, random), new Relu(new[] { 64 }),
    new Dense(64, 10, random),
};
if (only is null or "mlp") TrainAndExport("mlp", mlp, new[] { 784 }, epochs: 12, learningRate: 2e-3f);

Layer[] cnn =
{
    new Conv(1, 28, 28, 6, 5, 2, random), new Relu(new[] { 6, 28, 28 }), new MaxPool2(6, 28, 28),
    new Conv(6, 14, 14, 16, 5, 0, random), new Relu(new[] { 16, 10, 10 }), new MaxPool2(16, 10, 10),
    new Flatten(400),
    new Dense(400, 120, random), new Relu(new[] { 120 }),
    new Dense(120, 84, random), new Relu(new[] { 84 }),
    new Dense(84, 10, random),
};
if (only is null or "cnn") TrainAndExport("cnn", cnn, new[] { 1, 28, 28 }, epochs: 12, learningRate: 2e-3f);

// MobileNet-style: a stem convolution, then depthwise 3x3 (stride 2) + pointwise 1x1 blocks, then a classifier.
Layer[] separable =
{
    new Conv(1, 28, 28, 8, 3, 1, random), new Relu(new[] { 8, 28, 28 }),
    new Conv(8, 28, 28, 8, 3, 1, random, stride: 2, groups: 8), new Relu(new[] { 8, 14, 14 }),
    new Conv(8, 14, 14, 16, 1, 0, random), new Relu(new[] { 16, 14, 14 }),
    new Conv(16, 14, 14, 16, 3, 1, random, stride: 2, groups: 16), new Relu(new[] { 16, 7, 7 }),
    new Conv(16, 7, 7, 32, 1, 0, random), new Relu(new[] { 32, 7, 7 }),
    new Flatten(32 * 49),
    new Dense(32 * 49, 10, random),
};
if (only is "separable" || (only is null && args.Contains("--separable"))) TrainAndExport("separable", separable, new[] { 1, 28, 28 }, epochs: 10, learningRate: 2e-3f, safetensors: false);
if (only is null or "transformer") TrainTransformer();

// The paper's heterogeneous CNNs, beside the LeNet-5 (cnn) and the MobileNet-style net (separable) above; each with
// its own seed, so training one leaves the others' files as they were.
// VGG-style: two stacks of two 3x3 convolutions, each stack pooled, then large dense layers (most of the weights).
var vggRandom = new Random(23);
Layer[] vgg =
{
    new Conv(1, 28, 28, 8, 3, 1, vggRandom), new Relu(new[] { 8, 28, 28 }),
    new Conv(8, 28, 28, 8, 3, 1, vggRandom), new Relu(new[] { 8, 28, 28 }), new MaxPool2(8, 28, 28),
    new Conv(8, 14, 14, 16, 3, 1, vggRandom), new Relu(new[] { 16, 14, 14 }),
    new Conv(16, 14, 14, 16, 3, 1, vggRandom), new Relu(new[] { 16, 14, 14 }), new MaxPool2(16, 14, 14),
    new Flatten(16 * 7 * 7),
    new Dense(16 * 7 * 7, 256, vggRandom), new Relu(new[] { 256 }),
    new Dense(256, 128, vggRandom), new Relu(new[] { 128 }),
    new Dense(128, 10, vggRandom),
};
if (only is "vgg" || (only is null && args.Contains("--paper-cnns"))) TrainAndExport("vgg", vgg, new[] { 1, 28, 28 }, epochs: 8, learningRate: 1e-3f, safetensors: false);

// ResNet-style: a stem, two residual blocks (3x3 convolution, BatchNormalization, ReLU, 3x3 convolution,
// BatchNormalization, add the block's input, ReLU) around a stride-2 downsampling convolution, then a classifier.
var resRandom = new Random(29);
Layer[] resnet =
{
    /* 0 */ new Conv(1, 28, 28, 8, 3, 1, resRandom), new ChannelAffine(8, 28, 28), new Relu(new[] { 8, 28, 28 }),
    /* 3 */ new Conv(8, 28, 28, 8, 3, 1, resRandom), new ChannelAffine(8, 28, 28), new Relu(new[] { 8, 28, 28 }),
    /* 6 */ new Conv(8, 28, 28, 8, 3, 1, resRandom), new ChannelAffine(8, 28, 28), new AddSkip(2, new[] { 8, 28, 28 }), new Relu(new[] { 8, 28, 28 }),
    /* 10 */ new Conv(8, 28, 28, 16, 3, 1, resRandom, stride: 2), new ChannelAffine(16, 14, 14), new Relu(new[] { 16, 14, 14 }),
    /* 13 */ new Conv(16, 14, 14, 16, 3, 1, resRandom), new ChannelAffine(16, 14, 14), new Relu(new[] { 16, 14, 14 }),
    /* 16 */ new Conv(16, 14, 14, 16, 3, 1, resRandom), new ChannelAffine(16, 14, 14), new AddSkip(12, new[] { 16, 14, 14 }), new Relu(new[] { 16, 14, 14 }),
    /* 20 */ new MaxPool2(16, 14, 14), new Flatten(16 * 7 * 7),
    /* 22 */ new Dense(16 * 7 * 7, 10, resRandom),
};
if (only is "resnet" || (only is null && args.Contains("--paper-cnns"))) TrainAndExport("resnet", resnet, new[] { 1, 28, 28 }, epochs: 8, learningRate: 1e-3f, safetensors: false);
return 0;

string? Option(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

void TrainTransformer()
{
    // Each row of a digit is a token: 28 tokens of 28 pixels, one encoder block, four heads.
    var encoder = new Encoder(width: 48, heads: 4, hidden: 96, classes: 10, new Random(17));
    var trainer = new EncoderTrainer(encoder);
    const int epochs = 24;
    var clock = Stopwatch.StartNew();
    trainer.Train(train, epochs, batchSize: 32, learningRate: 2e-3f, weightDecay: 0.01f, seed: 19, (epoch, loss) =>
        Console.WriteLine($"transformer epoch {epoch + 1}/{epochs}: loss {loss:F4}, test accuracy {trainer.Accuracy(test):P2} ({clock.Elapsed.TotalSeconds:F0} s)"));
    File.WriteAllBytes(Path.Combine(output, "digits-transformer.onnx"), EncoderExport.Onnx(encoder));
    Console.WriteLine($"transformer: {encoder.ParameterCount} parameters, test accuracy {trainer.Accuracy(test):P2}, written to {output}");
}

void TrainAndExport(string name, Layer[] layers, int[] inputShape, int epochs, float learningRate, bool safetensors = true)
{
    var trainer = new Trainer(layers, inputShape);
    var clock = Stopwatch.StartNew();
    trainer.Train(train, epochs, batchSize: 32, learningRate, decayPerEpoch: 0.75f, seed: 11, (epoch, loss) =>
        Console.WriteLine($"{name} epoch {epoch + 1}/{epochs}: loss {loss:F4}, test accuracy {trainer.Accuracy(test):P2} ({clock.Elapsed.TotalSeconds:F0} s)"));
    // BatchNormalization records its input's statistics, over the training digits.
    File.WriteAllBytes(Path.Combine(output, $"digits-{name}.onnx"), Export.Onnx(layers, inputShape, name,
        l => trainer.InputStatistics(l, ((ChannelAffine)layers[l]).Channels, train, 2000)));
    if (safetensors) File.WriteAllBytes(Path.Combine(output, $"digits-{name}.safetensors"), Export.Safetensors(layers, inputShape));
    Console.WriteLine($"{name}: {layers.Sum(l => l.Weights.Length + l.Bias.Length)} parameters, test accuracy {trainer.Accuracy(test):P2}, written to {output}");
}
