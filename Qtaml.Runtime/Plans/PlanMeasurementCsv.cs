using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace Qtaml.Plans;

/// <summary>Every plan a campaign measured, one CSV row each, sorted by allocator and budget: what its table and chart were made from.</summary>
public static class PlanMeasurementCsv
{
    /// <summary>The header line, then one row per measurement.</summary>
    public const string Header = "allocator,budget,bits_per_weight_spent,encoding,protected_planes,mean,lower95,upper95,trials";

    /// <summary>The CSV text: <see cref="Header"/>, then a row per measured allocator and budget.</summary>
    public static string Render(IEnumerable<PlanMeasurement> measured)
    {
        if (measured is null) throw new ArgumentNullException(nameof(measured));
        var text = new StringBuilder(Header).Append('\n');
        string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        foreach (PlanMeasurement m in measured.OrderBy(m => m.Allocator).ThenBy(m => m.Budget))
            text.Append(AllocatorNames.Of(m.Allocator)).Append(',').Append(F(m.Budget)).Append(',').Append(F(m.Plan.BitsPerWeight)).Append(',').Append(m.Encoding).Append(',')
                .Append(string.Join(" ", m.Plan.ProtectedPlanes)).Append(',').Append(F(m.Result.Mean)).Append(',').Append(F(m.Result.Lower95)).Append(',')
                .Append(F(m.Result.Upper95)).Append(',').Append(m.Result.Trials).Append('\n');
        return text.ToString();
    }
}
