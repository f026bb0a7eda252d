using System.Globalization;

namespace Qtaml.Tool.Cli;

/// <summary>How qtaml writes numbers: invariant, percentages without the invariant culture's space ("95.1%").</summary>
internal static class Text
{
    public static string Percent(double share, int decimals = 1) =>
        (share * 100).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) + "%";

    public static string ToPercent(this double share, int decimals) => Percent(share, decimals);
}
