using System.Text.Json;
using System.Text.Json.Nodes;
using Qtaml.Plans;
using Qtaml.Tac;
using Qtaml.Tool.Build;

namespace Qtaml.Tool.Cli;

/// <summary>
/// A campaign's findings as JSON (summary.json): what was run, each allocator's minimum budget and interval, the
/// measured ratio beside ρ*, and every allocator at the fixed budgets. Scripts that tabulate several campaigns read it.
/// </summary>
internal static class CampaignSummary
{
    public static string Json(BuildRequest request, CampaignCommand.CampaignSettings settings, ModelInfo info, double cleanAccuracy, bool labelled, double target,
        int inputs, IReadOnlyDictionary<Allocator, BudgetEstimate> estimates, IReadOnlyList<PlanMeasurement> atBudget)
    {
        JsonNode? Number(double? value) => value is double v && double.IsFinite(v) ? JsonValue.Create(v) : null;
        JsonObject Share(PlanMeasurement m) => new() { ["mean"] = m.Result.Mean, ["lower95"] = m.Result.Lower95, ["upper95"] = m.Result.Upper95, ["bitsPerWeightSpent"] = m.Plan.BitsPerWeight };
        var allocators = new JsonObject();
        foreach ((Allocator allocator, BudgetEstimate e) in estimates)
            allocators[AllocatorNames.Of(allocator)] = new JsonObject
            {
                ["minimumBudget"] = Number(e.Budget),
                ["optimistic"] = Number(e.Optimistic),
                ["pessimistic"] = Number(e.Pessimistic),
                ["atMinimum"] = e.AtBudget is { } m ? Share(m) : null,
                ["atFixedBudgets"] = new JsonArray(atBudget.Where(m => m.Allocator == allocator).Select(m => (JsonNode)new JsonObject { ["budget"] = m.Budget, ["share"] = Share(m) }).ToArray()),
            };
        BudgetRatio? ratio = BudgetRatio.Of(estimates[Allocator.UniformMsp], estimates[Allocator.Tac]);
        var summary = new JsonObject
        {
            ["model"] = Path.GetFileName(request.ModelFile),
            ["faults"] = request.Faults.Describe(),
            ["bits"] = request.Bits,
            ["inputs"] = inputs,
            ["trials"] = settings.Trials,
            ["seed"] = settings.Seed,
            ["metric"] = labelled ? "accuracy" : "agreement",
            ["clean"] = cleanAccuracy,
            ["target"] = target,
            ["allocators"] = allocators,
            ["uniformOverTac"] = ratio is { } r ? new JsonObject { ["ratio"] = Number(r.Ratio), ["low"] = Number(r.Low), ["high"] = Number(r.High) } : null,
            ["rhoNoiseFloor"] = Number(info.Rho),
            ["rhoCalibrated"] = info.Forecast is { } f ? Number(f.Rho) : null,
        };
        return summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
