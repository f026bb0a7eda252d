namespace Qtaml.Generators.Planning;

/// <summary>
/// The flips a build's stored codes are compensated for, resolved once from the attribute (OperatingPoint,
/// FlipProbability) and carried typed through planning and emission; <see cref="CompensationPoints.InfoText"/> is the
/// one place it becomes the text <c>Info.OperatingPoint</c> shows.
/// </summary>
internal enum CompensationPoint
{
    /// <summary>A node's read-out averaged over its retention window (the default: right on average at every moment).</summary>
    WindowAverage,

    /// <summary>A node's window's end, the worst read.</summary>
    EndOfWindow,

    /// <summary>An explicit flip probability: the codes always carry their flips, and there is no window.</summary>
    Static,
}

internal static class CompensationPoints
{
    /// <summary>The text of <c>Info.OperatingPoint</c>.</summary>
    public static string InfoText(this CompensationPoint point) => point switch
    {
        CompensationPoint.WindowAverage => "window average",
        CompensationPoint.EndOfWindow => "end of window",
        _ => "static",
    };

    /// <summary>Whether codes are read just after a refresh, with no flips yet (a node's window), so compensation must do no harm there.</summary>
    public static bool HasWindow(this CompensationPoint point) => point != CompensationPoint.Static;
}
