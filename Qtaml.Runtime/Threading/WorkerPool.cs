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
/// the next for 100 µs, then sleeps on a semaphore (no CPU); <see cref="Dispose"/> ends them. A run waits only for
/// the parts workers have taken: a worker still waking up (slow in a loaded or virtual machine) takes none, and the
/// caller runs what is left, so a pool is never much slower than one thread.
/// </para>
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _workers;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly object _turn = new();
    private WorkItem? _work;
    private int _parts;
    // The run's number (high 32 bits) and the next part not yet taken (low 32 bits), in one word, so a part is taken
    // by one compare-and-swap that also proves the run is still the one the taker read: a worker that wakes late
    // cannot take a part of a run that has ended, and the caller never waits for a worker that took nothing.
    private long _ticket;
    private int _completed;
    private int _sleepers;
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
        if (_workers.Length == 0 || parts == 1)
        {
            for (int part = 0; part < parts; part++) work.RunPart(part, parts);
            return;
        }
        lock (_turn)
        {
            if (_disposed) throw new ObjectDisposedException(nameof(WorkerPool));
            _work = work;
            _parts = parts;
            _failure = null;
            Volatile.Write(ref _completed, 0);
            // Publishing the new run's number is a full fence: a worker that counted itself asleep before it is
            // seen below and woken; one that counts itself after it sees the new run before it sleeps.
            long run = (Volatile.Read(ref _ticket) >> 32) + 1;
            Interlocked.Exchange(ref _ticket, run << 32);
            // Wake the sleepers not already woken (one still waking from a run it came too late for counts as asleep).
            int toWake = Math.Min(Volatile.Read(ref _sleepers) - _wake.CurrentCount, parts - 1);
            if (toWake > 0) _wake.Release(toWake);
            TakeParts(work, parts, run);
            // Only parts a worker has taken are waited for; a worker still waking takes none of this run.
            var spin = new SpinWait();
            while (Volatile.Read(ref _completed) < parts) spin.SpinOnce(sleep1Threshold: -1);
            // Closed before the next run's work and part count are written: a worker that read this run's number
            // and then the next run's part count must not take a "part" beyond this run's count.
            Interlocked.Exchange(ref _ticket, (run << 32) | int.MaxValue);
            _work = null;
            ExceptionDispatchInfo? failure = _failure;
            _failure = null;
            failure?.Throw();
        }
    }

    /// <summary>Takes parts of run <paramref name="run"/> not yet taken until none is left; each is run by whoever takes it.</summary>
    private void TakeParts(WorkItem work, int parts, long run)
    {
        while (true)
        {
            long ticket = Volatile.Read(ref _ticket);
            if (ticket >> 32 != run || (int)ticket >= parts) return;
            if (Interlocked.CompareExchange(ref _ticket, ticket + 1, ticket) != ticket) continue;
            try
            {
                work.RunPart((int)ticket, parts);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
            }
            Interlocked.Increment(ref _completed);
        }
    }

    /// <summary>
    /// How long a worker looks for the next run before it sleeps: a model's split layers come microseconds apart, and
    /// waking a sleeping thread costs about as much (a futex and the scheduler, more in a virtual machine). A run
    /// published while it looks is taken without a system call on either side.
    /// </summary>
    private static readonly long LookTicks = Stopwatch.Frequency / 10_000;   // 100 µs

    private void Work()
    {
        long seen = 0;
        while (!_disposed)
        {
            long until = Stopwatch.GetTimestamp() + LookTicks;
            var spin = new SpinWait();
            while (Volatile.Read(ref _ticket) >> 32 == seen && !_disposed && Stopwatch.GetTimestamp() < until) spin.SpinOnce(sleep1Threshold: -1);
            if (Volatile.Read(ref _ticket) >> 32 == seen && !_disposed)
            {
                // Count this worker asleep, then look once more (see Run): a run published in between is not missed.
                Interlocked.Increment(ref _sleepers);
                if (Volatile.Read(ref _ticket) >> 32 == seen && !_disposed) _wake.Wait();
                Interlocked.Decrement(ref _sleepers);
                continue;   // a release meant for a run already finished wakes this worker for nothing: look again
            }
            if (_disposed) return;
            // The work and part count were written before the run's number was published; if the run has ended
            // meanwhile, no part of it can be taken (its number is checked by each take), so reading a newer run's
            // work here is harmless: the takes fail and the next loop sees the newer number.
            long ticket = Volatile.Read(ref _ticket);
            seen = ticket >> 32;
            WorkItem? work = Volatile.Read(ref _work);
            int parts = Volatile.Read(ref _parts);
            if (work is not null) TakeParts(work, parts, seen);
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
