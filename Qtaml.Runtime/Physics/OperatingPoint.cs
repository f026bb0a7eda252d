namespace Qtaml.Physics;

/// <summary>
/// Which read-out a node build compensates for (DESIGN 3.2). Flips grow through a retention window: none just after
/// a refresh, p10(t_R) at its end; reads happen at any moment.
/// </summary>
public enum OperatingPoint
{
    /// <summary>The read-out averaged over the window (the default): right on average at every moment, start included.</summary>
    WindowAverage = 0,

    /// <summary>The read-out at the end of the window, the worst moment: the most flips, none of the window's earlier reads.</summary>
    EndOfWindow = 1,
}
