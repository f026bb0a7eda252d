extern alias gen;
using Qtaml.Calibration;
using NpyReader = gen::Qtaml.Generators.Calibration.NpyReader;

namespace Qtaml.Generators.Tests.Calibration;

/// <summary>
/// The recorder an app leaves in to collect calibration inputs: what it saves is what a build reads, every input seen
/// is equally likely to be kept, and concurrent Record calls neither lose counts nor tear rows.
/// </summary>
public class CalibrationRecorderTests
{
    private static float[] Row(int id, int length) => Enumerable.Repeat((float)id, length).ToArray();

    [Fact]
    public void Saves_the_inputs_as_the_npy_a_build_reads_one_input_a_row()
    {
        var recorder = new CalibrationRecorder(inputLength: 6, capacity: 8);
        for (int i = 0; i < 5; i++) recorder.Record(Row(i, 6));
        string path = Path.Combine(Path.GetTempPath(), "qtaml-recorder-" + Guid.NewGuid().ToString("N") + ".npy");
        try
        {
            recorder.Save(path, 2, 3);
            var array = NpyReader.Read(File.ReadAllBytes(path), maxRows: 256);
            Assert.Equal(new[] { 5, 2, 3 }, array.Shape);
            Assert.Equal(5, array.Rows);
            // Fewer inputs than the capacity: all kept, in order.
            for (int i = 0; i < 5; i++) Assert.All(array.Row(i), v => Assert.Equal(i, v));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Every_input_seen_is_kept_with_the_same_probability()
    {
        // 160 inputs through a reservoir of 16, over 400 seeds: input i is kept Binomial(400, 0.1) times, mean 40,
        // standard deviation 6. Each count within 5 sigma of the mean (two-sided 5.7e-7 per input, 1e-4 for all 160).
        const int inputs = 160, capacity = 16, seeds = 400;
        var kept = new int[inputs];
        for (int seed = 0; seed < seeds; seed++)
        {
            var recorder = new CalibrationRecorder(inputLength: 1, capacity, (ulong)seed);
            for (int i = 0; i < inputs; i++) recorder.Record(new[] { (float)i });
            foreach (float id in recorder.ToArray()) kept[(int)id]++;
            Assert.Equal(capacity, recorder.Count);
        }
        double mean = seeds * (double)capacity / inputs, sigma = Math.Sqrt(seeds * 0.1 * 0.9);
        Assert.All(kept, count => Assert.InRange(count, mean - 5 * sigma, mean + 5 * sigma));
        // And the first inputs are not favoured: the first and last halves are kept equally often within 5 sigma of their sum.
        double halves = kept.Take(inputs / 2).Sum() - kept.Skip(inputs / 2).Sum();
        Assert.InRange(halves, -5 * Math.Sqrt(inputs * sigma * sigma), 5 * Math.Sqrt(inputs * sigma * sigma));
    }

    [Fact]
    public void Concurrent_records_are_all_counted_and_no_kept_row_is_torn()
    {
        const int length = 64, perThread = 2000, threads = 4;
        var recorder = new CalibrationRecorder(length, capacity: 32);
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (int i = 0; i < perThread; i++) recorder.Record(Row(t * perThread + i, length));
        });
        Assert.Equal(threads * perThread, recorder.Seen);
        float[] rows = recorder.ToArray();
        Assert.Equal(32 * length, rows.Length);
        for (int r = 0; r < 32; r++)
        {
            float id = rows[r * length];
            Assert.All(rows.AsSpan(r * length, length).ToArray(), v => Assert.Equal(id, v));
        }
    }

    [Fact]
    public void Misuse_is_refused_with_the_reason()
    {
        var recorder = new CalibrationRecorder(inputLength: 4);
        Assert.Contains("holds 4 values; this one holds 3", Assert.Throws<ArgumentException>(() => recorder.Record(new float[3])).Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was recorded", Assert.Throws<InvalidOperationException>(() => recorder.Save("unused.npy")).Message, StringComparison.Ordinal);
        recorder.Record(new float[4]);
        Assert.Contains("does not hold the 4 values", Assert.Throws<ArgumentException>(() => recorder.Save("unused.npy", 3)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CalibrationRecorder(inputLength: 0));
    }
}
