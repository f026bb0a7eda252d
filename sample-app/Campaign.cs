using Qtaml.Data;
using Qtaml.Faults;

namespace Qtaml.Sample;

/// <summary>The options of a fault campaign.</summary>
public sealed record CampaignOptions(string Model = "cnn", double PFlip = 0.10, string? Node = null, int Trials = 20, int TestImages = 500, ulong Seed = 2026);

/// <summary>One measured point: an allocator at a budget, and the accuracy over the trials.</summary>
public sealed record MeasuredPoint(string Allocator, double Budget, IReadOnlyList<int> ProtectedPlanes, CampaignResult Accuracy);

/// <summary>What a campaign found.</summary>
public sealed record CampaignReport(string Model, double CleanAccuracy, double CleanAccuracyOnSubset, IReadOnlyList<MeasuredPoint> Points, ModelInfo TacInfo, string FaultModel)
{
    /// <summary>95% of the clean accuracy, the paper's bar.</summary>
    public double Target => 0.95 * CleanAccuracyOnSubset;

    /// <summary>The smallest evaluated budget at which an allocator's mean accuracy keeps 95% of clean; null if none does.</summary>
    public double? MinimumBudget(string allocator) =>
        Points.Where(p => p.Allocator == allocator && p.Accuracy.Mean >= Target).Select(p => (double?)p.Budget).Min()
        ?? (allocator != "None" && Points.Any(p => p.Allocator == "None" && p.Accuracy.Mean >= Target) ? 0 : null);

    /// <summary>Uniform-MSP's minimum budget over TAC's: how much less ECC TAC needs, measured.</summary>
    public double? MeasuredRatio => MinimumBudget("UniformMsp") is double u && MinimumBudget("Tac") is double t && t > 0 ? u / t : null;
}

/// <summary>Runs the accuracy-against-budget campaign over the compiled variants of one model.</summary>
public static class Campaign
{
    /// <summary>
    /// Runs every point. Clean accuracy is the unquantized network's (<paramref name="clean"/>), on the whole test
    /// split and on the campaign's subset; the 95% bar is set against the subset, which every point is measured on.
    /// </summary>
    /// <summary>A point's fault seed from its allocator and budget, so adding points leaves the others' faults as they were.</summary>
    private static ulong PointSeed(ulong seed, CampaignPoint point)
    {
        ulong hash = 14695981039346656037UL;   // FNV-1a over "allocator:budget"
        foreach (char c in $"{point.Allocator}:{point.Budget.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}") hash = (hash ^ c) * 1099511628211UL;
        return seed ^ hash;
    }

    public static CampaignReport Run(CampaignOptions options, MnistData test, IReadOnlyList<CampaignPoint> points, Func<float[], int> clean, Action<string, int, int>? progress = null)
    {
        TunnelingFaultModel faults = options.Node is null ? TunnelingFaultModel.Symmetric(options.PFlip) : TunnelingFaultModel.ForNode(options.Node);
        int subset = Math.Min(options.TestImages, test.Count);
        CampaignPoint tac = points.Where(p => p.Allocator == "Tac").OrderBy(p => p.Budget).First();
        double Accuracy(int count) => Enumerable.Range(0, count).Count(i => clean(test.Images[i]) == test.Labels[i]) / (double)count;
        double cleanAll = Accuracy(test.Count), cleanSubset = Accuracy(subset);

        var measured = new List<MeasuredPoint>();
        for (int i = 0; i < points.Count; i++)
        {
            CampaignPoint point = points[i];
            progress?.Invoke($"{point.Allocator} at {point.Budget:0.##} bits/weight", i, points.Count);
            WeightImage clean0 = point.CreateImage();
            CampaignResult accuracy = FaultCampaign.Run(options.Trials, PointSeed(options.Seed, point), clean0.Clone, (image, trial) =>
            {
                image.CopyFrom(clean0);
                faults.Inject(image, point.Info.Protection, trial.Seed);
                return point.Accuracy(image, test, subset);
            });
            measured.Add(new MeasuredPoint(point.Allocator, point.Budget, point.Info.Protection, accuracy));
        }
        progress?.Invoke("done", points.Count, points.Count);
        string faultModel = options.Node is null ? $"symmetric p_flip = {options.PFlip}" : $"{options.Node} physics ({faults.Flips})";
        return new CampaignReport(options.Model, cleanAll, cleanSubset, measured, tac.Info, faultModel);
    }
}
