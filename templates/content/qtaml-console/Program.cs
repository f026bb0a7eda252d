using Qtaml;
using Qtaml.Faults;

// A digit "1" (a vertical bar) through the model Qtaml compiled for 2 nm.
float[] pixels = new float[Digits.InputLength];
for (int y = 4; y < 24; y++) pixels[y * 28 + 14] = 1f;
int clean = Digits.Predict(pixels);
Console.WriteLine(Digits.Info);
Console.WriteLine($"prediction: {clean}");

// A small fault campaign: the stored bits after one 2 nm retention window, 20 seeded trials.
var faults = TunnelingFaultModel.ForNode("2nm");
float[] scores = new float[Digits.OutputLength];
int agree = 0;
const int Trials = 20;
for (int seed = 0; seed < Trials; seed++)
{
    WeightImage image = Digits.CreateWeightImage();
    faults.Inject(image, Digits.Info.Protection, seed: (ulong)seed);
    Digits.Run(image, pixels, scores);
    if (Array.IndexOf(scores, scores.Max()) == clean) agree++;
}
Console.WriteLine($"campaign: {agree} of {Trials} faulted reads agree with the clean prediction");

/// <summary>The digits MLP in Models/, compiled for 2 nm with TAC at 2 protected bits per weight.</summary>
[TunnelingCompensated("Models/digits-mlp.onnx", Node = "2nm", EccBudget = 2.0)]
public static partial class Digits { }
