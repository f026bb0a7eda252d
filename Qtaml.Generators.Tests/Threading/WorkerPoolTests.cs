using Qtaml.Threading;

namespace Qtaml.Generators.Tests.Threading;

/// <summary>The pool a split run uses: every part once, on several threads, failures rethrown, callers taking turns.</summary>
public class WorkerPoolTests
{
    private sealed class Counting : WorkItem
    {
        public int[] Runs = Array.Empty<int>();
        public readonly System.Collections.Concurrent.ConcurrentDictionary<int, bool> Threads = new();
        public int Parts;

        protected override void Run(int part, int parts)
        {
            Assert.Equal(Parts, parts);
            Interlocked.Increment(ref Runs[part]);
            Threads[Environment.CurrentManagedThreadId] = true;
            // Long enough that a woken worker finds parts left.
            Thread.SpinWait(20_000);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 7)]
    [InlineData(4, 2)]
    public void Every_part_runs_exactly_once_per_run(int threads, int parts)
    {
        using var pool = new WorkerPool(threads);
        var work = new Counting { Parts = parts };
        for (int run = 1; run <= 50; run++)
        {
            work.Runs = new int[parts];
            pool.Run(work, parts);
            Assert.All(work.Runs, count => Assert.Equal(1, count));
        }
        Assert.Equal(threads, pool.Threads);
        Assert.True(work.Threads.Count <= threads);
    }

    private sealed class Tiny : WorkItem
    {
        public int[] Runs = Array.Empty<int>();
        public int Parts;

        protected override void Run(int part, int parts)
        {
            Assert.Equal(Parts, parts);
            Interlocked.Increment(ref Runs[part]);
        }
    }

    [Fact]
    public void Runs_back_to_back_with_tiny_parts_and_changing_counts_run_each_part_once()
    {
        // Parts far shorter than a worker's wake-up, and a part count that changes every run: a worker that wakes
        // for a run that has ended (or reads one run's number and the next run's count) must take nothing.
        using var pool = new WorkerPool(3);
        var work = new Tiny();
        for (int run = 0; run < 5_000; run++)
        {
            int parts = 2 + run % 7;
            work.Parts = parts;
            work.Runs = new int[parts];
            pool.Run(work, parts);
            Assert.All(work.Runs, count => Assert.Equal(1, count));
        }
    }

    [Fact]
    public void The_workers_take_parts_not_only_the_caller()
    {
        using var pool = new WorkerPool(2);
        var work = new Counting { Parts = 64 };
        work.Runs = new int[64];
        pool.Run(work, 64);
        Assert.Contains(work.Threads.Keys, id => id != Environment.CurrentManagedThreadId);
    }

    private sealed class Failing : WorkItem
    {
        protected override void Run(int part, int parts)
        {
            if (part == parts - 1) throw new InvalidOperationException("part " + part);
        }
    }

    [Fact]
    public void A_failing_part_is_rethrown_to_the_caller_and_the_pool_still_runs()
    {
        using var pool = new WorkerPool(3);
        var error = Assert.Throws<InvalidOperationException>(() => pool.Run(new Failing(), 3));
        Assert.Equal("part 2", error.Message);
        var work = new Counting { Parts = 3, Runs = new int[3] };
        pool.Run(work, 3);
        Assert.All(work.Runs, count => Assert.Equal(1, count));
    }

    [Fact]
    public void Callers_on_several_threads_take_turns()
    {
        using var pool = new WorkerPool(2);
        var works = Enumerable.Range(0, 4).Select(_ => new Counting { Parts = 4 }).ToArray();
        Parallel.For(0, 4, i =>
        {
            for (int run = 0; run < 20; run++)
            {
                works[i].Runs = new int[4];
                pool.Run(works[i], 4);
                Assert.All(works[i].Runs, count => Assert.Equal(1, count));
            }
        });
    }

    [Fact]
    public void Arguments_are_checked_and_a_disposed_pool_refuses_work()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(0));
        var pool = new WorkerPool(2);
        Assert.Throws<ArgumentNullException>(() => pool.Run(null!, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Run(new Counting { Parts = 0 }, 0));
        pool.Dispose();
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.Run(new Counting { Parts = 2, Runs = new int[2] }, 2));
    }

    private sealed class Empty : WorkItem
    {
        protected override void Run(int part, int parts) => Thread.SpinWait(2_000);
    }

    [Fact]
    public void A_run_allocates_nothing_on_the_calling_thread()
    {
        using var pool = new WorkerPool(2);
        var work = new Empty();
        pool.Run(work, 2);
        // Per run, not once: the runtime's one-time costs (a spin path first taken when the machine is busy, its JIT and
        // type loads) can land in one batch of 100 runs, never in each; an allocation per run shows in every batch.
        var batches = new List<long>();
        for (int batch = 0; batch < 3 && (batches.Count == 0 || batches[^1] != 0); batch++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int run = 0; run < 100; run++) pool.Run(work, 2);
            batches.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.True(batches[^1] == 0, "bytes allocated per batch of 100 runs: " + string.Join(", ", batches));
    }
}
