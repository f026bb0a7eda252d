using System;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace Qtaml.Threading;

/// <summary>
/// Threads a generated model's <c>Run(input, output, workers)</c> splits its large layers across: the calling
/// thread and <see cref="Threads"/> − 1 workers of this pool, created once, so a run allocates nothing. Without a
/// pool, <c>Run</c> stays on the calling thread.
/// </summary>
/// <remarks>
/// <para>
/// Create one pool per app (or per inference thread) and keep it: <c>new WorkerPool()</c> uses every core
/// (<see cref="Environment.ProcessorCount"/>), <c>new WorkerPool(2)</c> two. A layer is split only where its
/// multiply-adds outweigh waking the workers (about a million); the parts of a layer write disjoint outputs in the
/// order one thread would, so outputs are bit for bit those of a single-threaded run.
/// </para>
/// <para>
/// A pool runs one split layer at a time: calls from several threads take turns. After a layer a worker looks for
/// the next for 100 µs, then sleeps on a semaphore (no CPU); <see cref="Dispose"/> ends them.
/// </para>
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _workers;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly object _turn = new();
    private WorkItem? _work;
    private int _parts;
    private int _nextPart;
    private int _helping;
    private ExceptionDispatchInfo? _failure;
    private volatile bool _disposed;

    /// <summary>A pool that uses every core: <see cref="Environment.ProcessorCount"/> threads, the caller's included.</summary>
    public WorkerPool() : this(Environment.ProcessorCount)
    {
    }

    /// <summary>A pool of <paramref name="threads"/> threads, the calling thread included (1: no workers, every run on the caller).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is less than 1.</exception>
    public WorkerPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "A pool needs at least one thread (the caller's).");
        Threads = threads;
        _workers = new Thread[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(Work) { IsBackground = true, Name = "Qtaml worker " + (i + 1) };
            _workers[i].Start();
        }
    }

    /// <summary>Threads a run splits across, the caller's included.</summary>
    public int Threads { get; }

    /// <summary>
    /// Runs every part of <paramref name="work"/>, on the calling thread and the workers, and returns when all are
    /// done. An exception thrown by a part is rethrown here (the first, if several throw).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The pool was disposed.</exception>
    public void Run(WorkItem work, int parts)
    {
        if (work is null) throw new ArgumentNullException(nameof(work));
        if (parts < 1) throw new ArgumentOutOfRangeException(nameof(parts), parts, "A run has at least one part.");
        if (_disposed) throw new ObjectDisposedException(nameof(WorkerPool));
        int helpers = Math.Min(_workers.Length, parts - 1);
        if (helpers == 0)
        {
            for (int part = 0; part < parts; part++) work.RunPart(part, parts);
            return;
        }
        lock (_turn)
        {
            if (_disposed) throw new ObjectDisposedException(nameof(WorkerPool));
            _work = work;
            _parts = parts;
            _nextPart = 0;
            _failure = null;
            // Every worker woken must be done before the run returns, so no wake-up outlives the run it was for.
            Volatile.Write(ref _helping, helpers);
            _wake.Release(helpers);
            TakeParts(work, parts);
            var spin = new SpinWait();
            while (Volatile.Read(ref _helping) > 0) spin.SpinOnce(sleep1Threshold: -1);
            _work = null;
            ExceptionDispatchInfo? failure = _failure;
            _failure = null;
            failure?.Throw();
        }
    }

    /// <summary>Takes parts not yet taken until none is left; each is run by whoever takes it.</summary>
    private void TakeParts(WorkItem work, int parts)
    {
        int part;
        while ((part = Interlocked.Increment(ref _nextPart) - 1) < parts)
        {
            try
            {
                work.RunPart(part, parts);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
            }
        }
    }

    /// <summary>
    /// How long a worker looks for the next run before it sleeps: a model's split layers come microseconds apart, and
    /// waking a sleeping thread costs about as much (a futex and the scheduler, more in a virtual machine). A run
    /// released while it looks is taken without a system call on either side.
    /// </summary>
    private static readonly long LookTicks = Stopwatch.Frequency / 10_000;   // 100 µs

    private void Work()
    {
        while (true)
        {
            long until = Stopwatch.GetTimestamp() + LookTicks;
            var spin = new SpinWait();
            while (_wake.CurrentCount == 0 && !_disposed && Stopwatch.GetTimestamp() < until) spin.SpinOnce(sleep1Threshold: -1);
            _wake.Wait();
            if (_disposed) return;
            TakeParts(_work!, _parts);
            Interlocked.Decrement(ref _helping);
        }
    }

    /// <summary>Ends the workers (after the run in progress, if any).</summary>
    public void Dispose()
    {
        lock (_turn)
        {
            if (_disposed) return;
            _disposed = true;
            if (_workers.Length > 0) _wake.Release(_workers.Length);
        }
        foreach (Thread worker in _workers) worker.Join();
        _wake.Dispose();
    }
}
