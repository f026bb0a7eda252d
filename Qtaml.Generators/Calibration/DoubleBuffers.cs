using System;
using System.Collections.Generic;
using System.Threading;

namespace Qtaml.Generators.Calibration;

/// <summary>
/// Large double arrays handed back and reused, zeroed, by a calibration's passes. A pass writes every value of the
/// network (hundreds of megabytes for a real model); fresh arrays cost a page fault per 4 KiB on first touch, which
/// measured ~30 ns per element, ten times the arithmetic, while a reused array is already mapped. Owned by one
/// calibration (or one simulation) and dropped with it, so nothing outlives the build step that filled it.
/// Thread-safe without locks: each thread keeps its own free arrays (an input is evaluated on one thread from its
/// forward pass to its last backward sweep, so what a thread returns it rents again); a shared pool measured 7% of a
/// calibration's time in contended locks on 2 cores.
/// </summary>
internal sealed class DoubleBuffers : IDisposable
{
    /// <summary>Arrays shorter than this come from the allocator (the young generation is already mapped).</summary>
    private const int MinPooled = 4096;

    private readonly ThreadLocal<Dictionary<int, Stack<double[]>>> _free = new(() => new Dictionary<int, Stack<double[]>>());

    /// <summary>
    /// An array of <paramref name="length"/> doubles, from <paramref name="buffers"/> when given: zeroed, or with
    /// <paramref name="zeroed"/> false holding anything, for a caller that writes every element before it reads one
    /// (zeroing measured a sixth of a calibration's time).
    /// </summary>
    public static double[] Rent(DoubleBuffers? buffers, int length, bool zeroed = true) => buffers is null ? new double[length] : buffers.Rent(length, zeroed);

    public double[] Rent(int length, bool zeroed = true)
    {
        if (length >= MinPooled && _free.Value!.TryGetValue(length, out Stack<double[]>? stack) && stack.Count > 0)
        {
            double[] array = stack.Pop();
            if (zeroed) Array.Clear(array, 0, array.Length);
            return array;
        }
        return new double[length];
    }

    /// <summary>Takes back an array no one reads any more (null and short ones are ignored).</summary>
    public void Return(double[]? array)
    {
        if (array is null || array.Length < MinPooled) return;
        Dictionary<int, Stack<double[]>> free = _free.Value!;
        if (!free.TryGetValue(array.Length, out Stack<double[]>? stack)) free.Add(array.Length, stack = new Stack<double[]>());
        stack.Push(array);
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

    /// <summary>Lets go of every thread's arrays at once.</summary>
    public void Dispose() => _free.Dispose();
}
