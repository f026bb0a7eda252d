namespace Qtaml.Threading;

/// <summary>
/// Work a <see cref="WorkerPool"/> runs in parts on several threads at once: generated models derive from it to
/// split a large layer (a convolution's output positions) across cores. The parts of one run must be independent:
/// each writes its own outputs and reads only what no part writes.
/// </summary>
public abstract class WorkItem
{
    /// <summary>Runs part <paramref name="part"/> of <paramref name="parts"/> (0 ≤ part &lt; parts).</summary>
    protected abstract void Run(int part, int parts);

    internal void RunPart(int part, int parts) => Run(part, parts);
}
