using System.Globalization;
using System.Text;

namespace Qtaml.Sample;

/// <summary>
/// Accuracy against ECC budget as an SVG line chart, one line per allocator with its 95% interval as a band.
/// Written directly (SVG is text) so the sample needs no native drawing library on any machine.
/// </summary>
public static class SvgChart
{
    private static readonly (string Allocator, string Label, string Color)[] Series =
    {
        ("Tac", "TAC", "#d62728"), ("UniformMsp", "Uniform-MSP", "#1f77b4"), ("MagnitudeBased", "Magnitude", "#2ca02c"), ("None", "No protection", "#7f7f7f"),
    };

    public static string Render(CampaignReport report)
    {
        const double width = 720, height = 440, left = 70, right = 180, top = 40, bottom = 60;
        double maxBudget = Math.Max(1, report.Points.Max(p => p.Budget));
        double X(double budget) => left + budget / maxBudget * (width - left - right);
        double Y(double accuracy) => top + (1 - accuracy) * (height - top - bottom);
        string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"22\" font-size=\"15\">{report.Model.ToUpperInvariant()} on 2nm: accuracy under {Escape(report.FaultModel)}, mean and 95% CI</text>\n");
        for (int tick = 0; tick <= 10; tick++)
        {
            double a = tick / 10.0;
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(left)}\" x2=\"{F(width - right)}\" y1=\"{F(Y(a))}\" y2=\"{F(Y(a))}\" stroke=\"#eee\"/><text x=\"{F(left - 8)}\" y=\"{F(Y(a) + 4)}\" text-anchor=\"end\">{a:P0}</text>\n");
        }
        for (double b = 0; b <= maxBudget + 1e-9; b += 1)
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(X(b))}\" x2=\"{F(X(b))}\" y1=\"{F(top)}\" y2=\"{F(height - bottom)}\" stroke=\"#eee\"/><text x=\"{F(X(b))}\" y=\"{F(height - bottom + 18)}\" text-anchor=\"middle\">{F(b)}</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F((left + width - right) / 2)}\" y=\"{F(height - 20)}\" text-anchor=\"middle\">ECC budget (protected bits per weight)</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(left)}\" x2=\"{F(width - right)}\" y1=\"{F(Y(report.Target))}\" y2=\"{F(Y(report.Target))}\" stroke=\"black\" stroke-dasharray=\"5,4\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(width - right + 6)}\" y=\"{F(Y(report.Target) + 4)}\">95% of clean</text>\n");

        int legend = 0;
        foreach ((string allocator, string label, string color) in Series)
        {
            // The unprotected point (budget 0) belongs to every curve.
            var points = report.Points.Where(p => p.Allocator == allocator || (p.Allocator == "None" && allocator != "None")).OrderBy(p => p.Budget).ToList();
            if (points.Count == 0) continue;
            string band = string.Join(" ", points.Select(p => $"{F(X(p.Budget))},{F(Y(Math.Min(1, p.Accuracy.Upper95)))}"))
                + " " + string.Join(" ", points.AsEnumerable().Reverse().Select(p => $"{F(X(p.Budget))},{F(Y(Math.Max(0, p.Accuracy.Lower95)))}"));
            svg.Append(CultureInfo.InvariantCulture, $"<polygon points=\"{band}\" fill=\"{color}\" fill-opacity=\"0.15\" stroke=\"none\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{string.Join(" ", points.Select(p => $"{F(X(p.Budget))},{F(Y(p.Accuracy.Mean))}"))}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>\n");
            foreach (var p in points) svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{F(X(p.Budget))}\" cy=\"{F(Y(p.Accuracy.Mean))}\" r=\"3\" fill=\"{color}\"/>\n");
            double ly = top + 60 + legend++ * 20;   // below the "95% of clean" label
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(width - right + 10)}\" x2=\"{F(width - right + 34)}\" y1=\"{F(ly)}\" y2=\"{F(ly)}\" stroke=\"{color}\" stroke-width=\"2\"/><text x=\"{F(width - right + 40)}\" y=\"{F(ly + 4)}\">{label}</text>\n");
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
