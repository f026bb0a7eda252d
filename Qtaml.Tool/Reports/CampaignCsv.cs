using System.Globalization;
using System.Text;
using Qtaml.Plans;
using Qtaml.Tool.Cli;

namespace Qtaml.Tool.Reports;

/// <summary>Every plan a campaign measured, one row each, sorted by allocator and budget: what the chart and table were made from.</summary>
internal static class CampaignCsv
{
    public static string Render(IEnumerable<PlanMeasurement> measured)
    {
        var text = new StringBuilder("allocator,budget,bits_per_weight_spent,encoding,protected_planes,mean,lower95,upper95,trials\n");
        string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        foreach (PlanMeasurement m in measured.OrderBy(m => m.Allocator).ThenBy(m => m.Budget))
            text.Append(CampaignCommand.Name(m.Allocator)).Append(',').Append(F(m.Budget)).Append(',').Append(F(m.Plan.BitsPerWeight)).Append(',').Append(m.Encoding).Append(',')
                .Append(string.Join(" ", m.Plan.ProtectedPlanes)).Append(',').Append(F(m.Result.Mean)).Append(',').Append(F(m.Result.Lower95)).Append(',')
                .Append(F(m.Result.Upper95)).Append(',').Append(m.Result.Trials).Append('\n');
        return text.ToString();
    }
}
