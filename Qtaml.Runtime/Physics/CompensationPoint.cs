namespace Qtaml.Physics;

/// <summary>
/// The flips a build's stored codes are compensated for (<c>ModelInfo.OperatingPoint</c>): a node's read-out averaged
/// over its retention window, the window's end, or an explicit, static flip probability. Resolved once by the
/// generator from the attribute (<see cref="OperatingPoint"/>, <c>FlipProbability</c>) and carried typed to the
/// generated <c>Info</c>.
/// </summary>
public enum CompensationPoint
{
    /// <summary>A node's read-out averaged over its retention window (the default: right on average at every moment).</summary>
    WindowAverage = 0,

    /// <summary>A node's window's end, the worst read.</summary>
    EndOfWindow = 1,

    /// <summary>An explicit flip probability: the codes always carry their flips, and there is no window.</summary>
    Static = 2,
}

/// <summary>What a <see cref="CompensationPoint"/> says in words and implies.</summary>
public static class CompensationPoints
{
    /// <summary>"window average", "end of window" or "static": how reports and the tool name it.</summary>
    public static string Describe(this CompensationPoint point) => point switch
    {
        CompensationPoint.WindowAverage => "window average",
        CompensationPoint.EndOfWindow => "end of window",
        _ => "static",
    };

    /// <summary>Whether codes are read just after a refresh, with no flips yet (a node's window), so compensation must do no harm there.</summary>
    public static bool HasWindow(this CompensationPoint point) => point != CompensationPoint.Static;
}
