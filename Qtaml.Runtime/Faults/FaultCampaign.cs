using System;
using System.Threading.Tasks;

namespace Qtaml.Faults;

/// <summary>One trial of a fault campaign: its index and the seed derived for it.</summary>
/// <param name="Index">0..trials−1.</param>
/// <param name="Seed">The trial's own seed, a function of the campaign seed and the index only.</param>
public readonly record struct FaultTrial(int Index, ulong Seed);

/// <summary>
/// Monte Carlo fault campaigns: N seeded trials of an evaluation, run in parallel over the machine's
/// cores. Trial i always gets the same seed and its result lands in slot i, so a campaign reproduces
/// exactly on any core count.
/// </summary>
public static class FaultCampaign
{
    /// <summary>Runs <paramref name="trials"/> evaluations and summarizes them.</summary>
    /// <param name="trials">How many trials (at least 1; at least 2 for a confidence interval).</param>
    /// <param name="seed">The campaign seed.</param>
    /// <param name="evaluate">Runs one trial, for example: inject faults with the trial's seed, measure accuracy. Called concurrently.</param>
    /// <param name="maxDegreeOfParallelism">At most this many trials at once; −1 for one per core.</param>
    public static CampaignResult Run(int trials, ulong seed, Func<FaultTrial, double> evaluate, int maxDegreeOfParallelism = -1)
    {
        if (evaluate is null) throw new ArgumentNullException(nameof(evaluate));
        return Run<object?>(trials, seed, static () => null, (_, trial) => evaluate(trial), maxDegreeOfParallelism);
    }

    /// <summary>
    /// Runs <paramref name="trials"/> evaluations, each worker with a workspace of its own (a weight image,
    /// scratch buffers) made once by <paramref name="createWorkspace"/> and reused across its trials.
    /// </summary>
    public static CampaignResult Run<TWorkspace>(int trials, ulong seed, Func<TWorkspace> createWorkspace, Func<TWorkspace, FaultTrial, double> evaluate, int maxDegreeOfParallelism = -1)
    {
        if (trials < 1) throw new ArgumentOutOfRangeException(nameof(trials), trials, "A campaign needs at least one trial.");
        if (createWorkspace is null) throw new ArgumentNullException(nameof(createWorkspace));
        if (evaluate is null) throw new ArgumentNullException(nameof(evaluate));
        if (maxDegreeOfParallelism == 0 || maxDegreeOfParallelism < -1)
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism, "Use a positive number of workers, or −1 for one per core.");

        var values = new double[trials];
        Parallel.For(0, trials, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            createWorkspace,
            (i, _, workspace) =>
            {
                values[i] = evaluate(workspace, new FaultTrial(i, SplitMix64.Derive(seed, (ulong)i)));
                return workspace;
            },
            static _ => { });
        return new CampaignResult(values);
    }
}
