using System;
using System.Threading;
using System.Threading.Tasks;

namespace Qtaml.Generators.Calibration;

/// <summary>
/// How the build evaluates calibration and synthetic inputs in parallel: one input per core at most. Left to itself the
/// thread pool adds threads to long work items (six on 2 cores, measured), and every input in flight holds a pass's
/// values, hundreds of megabytes on a real model, in the other inputs' caches. Results never depend on it: each
/// input has its own random stream and the sums over inputs are taken in input order.
/// </summary>
internal static class InputParallelism
{
    public static ParallelOptions Options(CancellationToken cancellationToken) => new()
    {
        CancellationToken = cancellationToken,
#pragma warning disable RS1035 // the core count is not a setting: it only bounds how many inputs run at once
        MaxDegreeOfParallelism = Environment.ProcessorCount,
#pragma warning restore RS1035
    };
}
