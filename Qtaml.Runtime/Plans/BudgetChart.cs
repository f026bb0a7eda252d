using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security;
using System.Text;
using Qtaml.Tac;

namespace Qtaml.Plans;

/// <summary>
/// A campaign's chart: the measured share of decisions against the budget, one line per allocator with its 95%
/// interval as a band, and the target as a dashed line; a self-contained SVG (no fonts or scripts to fetch). What
/// <c>qtaml campaign</c> and the sample app draw.
/// </summary>
public static class BudgetChart
{
    private const int Width = 760, Height = 440, Left = 70, Right = 170, Top = 40, Bottom = 60;

    private static readonly (Allocator Allocator, string Color)[] Series =
    {
        (Allocator.Tac, "#1b7837"), (Allocator.UniformMsp, "#2166ac"), (Allocator.MagnitudeBased, "#b2182b"),
    };

    /// <param name="measured">The measured plans (<see cref="PlanCampaign.Measurements"/>).</param>
    /// <param name="target">The share to keep, drawn as a dashed line.</param>
    /// <param name="metric">What the share is, for the vertical axis ("accuracy").</param>
    /// <param name="title">The chart's title.</param>
    public static string Render(IReadOnlyCollection<PlanMeasurement> measured, double target, string metric, string title)
    {
        if (measured is null) throw new ArgumentNullException(nameof(measured));
        double maxBudget = Math.Max(0.5, measured.Select(m => m.Budget).DefaultIfEmpty(1).Max());
        double minShare = Math.Min(target, measured.Select(m => m.Result.Lower95).DefaultIfEmpty(0).Min());
        minShare = Math.Max(0, Math.Floor(minShare * 10) / 10);
        double X(double budget) => Left + budget / maxBudget * (Width - Left - Right);
        double Y(double share) => Top + (1 - (share - minShare) / (1 - minShare)) * (Height - Top - Bottom);
        string N(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

        var svg = new StringBuilder();
        svg.Append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").Append(Width).Append("\" height=\"").Append(Height).Append("\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.Append("<text x=\"").Append(Left).Append("\" y=\"22\" font-size=\"14\">").Append(SecurityElement.Escape(title)).Append("</text>\n");
        // Axes, with ticks every tenth of the share and every quarter (or whole) bit of budget.
        svg.Append("<path d=\"M").Append(Left).Append(' ').Append(Top).Append(" V").Append(Height - Bottom).Append(" H").Append(Width - Right).Append("\" stroke=\"black\" fill=\"none\"/>\n");
        for (double s = minShare; s <= 1.0001; s += 0.1)
            svg.Append("<text x=\"").Append(Left - 8).Append("\" y=\"").Append(N(Y(s) + 4)).Append("\" text-anchor=\"end\">").Append(s.ToString("0%", CultureInfo.InvariantCulture)).Append("</text>\n");
        double step = maxBudget <= 2 ? 0.25 : maxBudget <= 8 ? 1 : 2;
        for (double b = 0; b <= maxBudget + 1e-9; b += step)
            svg.Append("<text x=\"").Append(N(X(b))).Append("\" y=\"").Append(Height - Bottom + 18).Append("\" text-anchor=\"middle\">").Append(b.ToString("0.##", CultureInfo.InvariantCulture)).Append("</text>\n");
        svg.Append("<text x=\"").Append(N((Left + Width - Right) / 2.0)).Append("\" y=\"").Append(Height - 18).Append("\" text-anchor=\"middle\">ECC budget (protected bits per weight)</text>\n");
        svg.Append("<text transform=\"translate(18 ").Append(N((Top + Height - Bottom) / 2.0)).Append(") rotate(-90)\" text-anchor=\"middle\">").Append(SecurityElement.Escape(metric)).Append(" under faults</text>\n");
        svg.Append("<path d=\"M").Append(Left).Append(' ').Append(N(Y(target))).Append(" H").Append(Width - Right).Append("\" stroke=\"gray\" stroke-dasharray=\"6 4\"/>\n");
        svg.Append("<text x=\"").Append(Width - Right - 4).Append("\" y=\"").Append(N(Y(target) - 5)).Append("\" text-anchor=\"end\" fill=\"gray\">target ").Append(target.ToString("0.0%", CultureInfo.InvariantCulture)).Append("</text>\n");

        int legend = 0;
        foreach ((Allocator allocator, string color) in Series)
        {
            PlanMeasurement[] points = measured.Where(m => m.Allocator == allocator).OrderBy(m => m.Budget).ToArray();
            if (points.Length == 0) continue;
            string band = string.Join(" ", points.Select(p => N(X(p.Budget)) + "," + N(Y(Math.Min(1, p.Result.Upper95)))))
                + " " + string.Join(" ", Enumerable.Reverse(points).Select(p => N(X(p.Budget)) + "," + N(Y(Math.Max(minShare, p.Result.Lower95)))));
            svg.Append("<polygon points=\"").Append(band).Append("\" fill=\"").Append(color).Append("\" fill-opacity=\"0.15\" stroke=\"none\"/>\n");
            svg.Append("<polyline points=\"").Append(string.Join(" ", points.Select(p => N(X(p.Budget)) + "," + N(Y(p.Result.Mean))))).Append("\" fill=\"none\" stroke=\"").Append(color).Append("\" stroke-width=\"2\"/>\n");
            foreach (PlanMeasurement p in points)
                svg.Append("<circle cx=\"").Append(N(X(p.Budget))).Append("\" cy=\"").Append(N(Y(p.Result.Mean))).Append("\" r=\"3\" fill=\"").Append(color).Append("\"/>\n");
            int y = Top + 20 + 20 * legend++;
            svg.Append("<rect x=\"").Append(Width - Right + 10).Append("\" y=\"").Append(y - 9).Append("\" width=\"14\" height=\"4\" fill=\"").Append(color).Append("\"/>\n");
            svg.Append("<text x=\"").Append(Width - Right + 30).Append("\" y=\"").Append(y - 3).Append("\">").Append(AllocatorNames.Of(allocator)).Append("</text>\n");
        }
        return svg.Append("</svg>\n").ToString();
    }
}
