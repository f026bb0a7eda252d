using System.Globalization;
using Qtaml.Physics;

// Placeholder main job until the sample-app issue lands: it prints the node presets the fault model
// is calibrated on, so `dotnet run --project sample-app` already shows real numbers.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
Console.WriteLine("Qtaml node presets (WKB through SiO2 + HfO2, retention window 64 ms, eta = 0)");
Console.WriteLine();
Console.WriteLine($"{"node",-5} {"SiO2 nm",8} {"HfO2 nm",8} {"EOT nm",7} {"V_hold",7} {"T (WKB)",10} {"p10",8}");
foreach (NodePreset node in NodePresets.All)
{
    Console.WriteLine($"{node.Name,-5} {node.Stack.Layers[0].ThicknessNm,8:F2} {node.Stack.Layers[1].ThicknessNm,8:F2} "
        + $"{node.Stack.EquivalentOxideThicknessNm,7:F2} {node.HoldVolts,7:F2} {node.Transmission,10:E3} {node.FlipProbabilities.P10,8:F4}");
}
Console.WriteLine();
Console.WriteLine($"attempt rate nu = {NodePresets.CalibratedAttemptRateHz:E4} Hz (solved so that 2nm gives p10 = 0.100 over 64 ms)");
