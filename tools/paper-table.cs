// The paper experiment's table (tools/paper-experiment.sh) from the summary.json each qtaml campaign wrote.
//   dotnet run tools/paper-table.cs -- results/paper
#:property NoWarn=$(NoWarn);CA1305;CA1307
using System.Globalization;
using System.Text.Json.Nodes;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string folder = args.Length > 0 ? args[0] : "results/paper";
(string Folder, string Name)[] models = { ("cnn", "LeNet-5 (CNN)"), ("vgg", "VGG-style"), ("resnet", "ResNet-style (BN, residual)"), ("separable", "MobileNet-style (depthwise)"), ("transformer", "transformer encoder") };
string Budget(JsonNode? n) => n is null ? "not reached" : n.GetValue<double>().ToString("0.###");
string Ratio(JsonNode? n) => n is null ? "∞" : n.GetValue<double>().ToString("0.00") + "x";
string Share(JsonNode? n) => n is null ? "-" : (n["mean"]!.GetValue<double>() * 100).ToString("0.0") + "%";

Console.WriteLine("| architecture | p | clean accuracy | TAC | Uniform-MSP | magnitude-based | Uniform-MSP / TAC (95% interval) | ρ* at build (calibrated; noise floor) | TAC vs magnitude at 0.1 / 0.25 / 0.5 bits/weight |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---|---|---|");
foreach ((string dir, string name) in models)
{
    string file = Path.Combine(folder, dir, "summary.json");
    if (!File.Exists(file)) continue;
    JsonNode s = JsonNode.Parse(File.ReadAllText(file))!;
    JsonNode a = s["allocators"]!;
    string Cell(string allocator) => Budget(a[allocator]!["minimumBudget"]) + " (" + Budget(a[allocator]!["optimistic"]) + "-" + Budget(a[allocator]!["pessimistic"]) + ")";
    JsonNode? r = s["uniformOverTac"];
    string ratio = r is null ? "n/a" : Ratio(r["ratio"]) + " (" + Ratio(r["low"]) + "-" + Ratio(r["high"]) + ")";
    JsonArray tacFixed = a["TAC"]!["atFixedBudgets"]!.AsArray(), magFixed = a["magnitude-based"]!["atFixedBudgets"]!.AsArray();
    string vs = string.Join(" / ", tacFixed.Zip(magFixed, (t, m) => Share(t!["share"]) + " vs " + Share(m!["share"])));
    string p = s["faults"]!.GetValue<string>().Replace("p_flip = ", "");
    Console.WriteLine($"| {name} | {p} | {s["clean"]!.GetValue<double>() * 100:0.00}% | {Cell("TAC")} | {Cell("Uniform-MSP")} | {Cell("magnitude-based")} | {ratio} | {Ratio(s["rhoCalibrated"])}; {Ratio(s["rhoNoiseFloor"])} | {vs} |");
}
