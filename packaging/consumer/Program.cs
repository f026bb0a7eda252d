using Qtaml;
using Qtaml.Faults;

// Classify a synthetic "1" (a vertical bar) with the MLP the package compiled, then again after 2 nm faults.
float[] pixels = new float[784];
for (int y = 4; y < 24; y++) pixels[y * 28 + 14] = 1f;
Console.WriteLine($"compiled: {Digits.Info}");
Console.WriteLine($"prediction: {Digits.Predict(pixels)}");
WeightImage image = Digits.CreateWeightImage();
long flipped = TunnelingFaultModel.ForNode("2nm").Inject(image, Digits.Info.Protection, seed: 1);
float[] scores = new float[Digits.OutputLength];
Digits.Run(image, pixels, scores);
Console.WriteLine($"after {flipped} bit flips: scores sum to {scores.Sum():F3}");

[TunnelingCompensated("Models/digits-mlp.onnx", EccBudget = 2.0)]
public static partial class Digits { }
