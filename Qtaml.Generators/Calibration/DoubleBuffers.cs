using System;
using System.Collections.Concurrent;

namespace Qtaml.Generators.Calibration;

/// <summary>
/// Large double arrays handed back and reused, zeroed, by a calibration's passes. A pass writes every value of the
/// network (hundreds of megabytes for a real model); fresh arrays cost a page fault per 4 KiB on first touch, which
/// measured ~30 ns per element, ten times the arithmetic, while a reused array is already mapped. Owned by one
/// calibration (or one simulation) and dropped with it, so nothing outlives the build step that filled it.
/// Thread-safe: inputs are evaluated in parallel.
/// </summary>
internal sealed class DoubleBuffers
{
    /// <summary>Arrays shorter than this come from the allocator (the young generation is already mapped).</summary>
    private const int MinPooled = 4096;

    private readonly ConcurrentDictionary<int, ConcurrentBag<double[]>> _free = new();

    /// <summary>A zeroed array of <paramref name="length"/> doubles, from <paramref name="buffers"/> when given.</summary>
    public static double[] Rent(DoubleBuffers? buffers, int length) => buffers is null ? new double[length] : buffers.Rent(length);

    public double[] Rent(int length)
    {
        if (length >= MinPooled && _free.TryGetValue(length, out ConcurrentBag<double[]>? bag) && bag.TryTake(out double[]? array))
        {
            Array.Clear(array, 0, array.Length);
            return array;
        }
        return new double[length];
    }

    /// <summary>Takes back an array no one reads any more (null and short ones are ignored).</summary>
    public void Return(double[]? array)
    {
        if (array is null || array.Length < MinPooled) return;
        _free.GetOrAdd(array.Length, _ => new ConcurrentBag<double[]>()).Add(array);
    }

    /// <summary>Takes back a pass's values from index <paramref name="first"/> on (index 0, the caller's input, is kept).</summary>
    public void ReturnAll(double[][] values, int first = 1)
    {
        for (int i = first; i < values.Length; i++)
        {
            Return(values[i]);
            values[i] = null!;
        }
    }
}
