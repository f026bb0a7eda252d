namespace Qtaml.Threading;

/// <summary>
/// Work a <see cref="WorkerPool"/> runs in parts on several threads at once: generated models derive from it to
/// split a large layer (a convolution's output positions) across cores. The parts of one run must be independent:
/// each writes its own outputs and reads only what no part writes.
/// A part must not run work on the pool that runs it (the pool runs one item at a time, so it would wait for itself).
/// </summary>
public abstract class WorkItem
{
    /// <summary>Runs part <paramref name="part"/> of <paramref name="parts"/> (0 ≤ part &lt; parts).</summary>
    protected abstract void Run(int part, int parts);

    internal void RunPart(int part, int parts) => Run(part, parts);
}
