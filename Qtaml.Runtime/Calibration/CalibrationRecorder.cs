using System;
using System.Linq;
using Qtaml.Faults;

namespace Qtaml.Calibration;

/// <summary>
/// Keeps a uniform random sample of the inputs an app runs its model on, in bounded memory, to save as the
/// calibration inputs of the next build (<c>Calibration = "inputs.npy"</c>). Leave it in a build for a while:
/// <code>
/// var recorder = new CalibrationRecorder(Digits.InputLength, capacity: 256);
/// recorder.Record(pixels);                 // beside each Digits.Run / Predict
/// recorder.Save("Models/inputs.npy", 28, 28);   // [N, 28, 28], or Save(path) for [N, InputLength]
/// </code>
/// Every input seen has the same chance to be among those kept, however many are seen (reservoir sampling,
/// Algorithm R, seeded). Thread-safe: <see cref="Record"/> may be called from any thread; it copies the input and
/// allocates nothing after the first <see cref="Capacity"/> inputs.
/// </summary>
public sealed class CalibrationRecorder
{
    private readonly object _gate = new();
    private readonly float[] _rows;
    private SplitMix64 _random;
    private long _seen;

    /// <param name="inputLength">Values per input: the model's <c>InputLength</c>.</param>
    /// <param name="capacity">Inputs kept at most; builds use up to 256.</param>
    /// <param name="seed">Seeds which inputs are kept, so a recording can be repeated.</param>
    public CalibrationRecorder(int inputLength, int capacity = 256, ulong seed = 2026)
    {
        if (inputLength < 1) throw new ArgumentOutOfRangeException(nameof(inputLength), inputLength, "An input holds at least one value.");
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "Keep at least one input.");
        if ((long)inputLength * capacity > 1L << 28) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The sample would hold more than 2^28 values (1 GiB); keep fewer inputs.");
        InputLength = inputLength;
        Capacity = capacity;
        _rows = new float[inputLength * capacity];
        _random = new SplitMix64(seed);
    }

    /// <summary>Values per input.</summary>
    public int InputLength { get; }

    /// <summary>Inputs kept at most.</summary>
    public int Capacity { get; }

    /// <summary>Inputs recorded so far (every call of <see cref="Record"/>).</summary>
    public long Seen
    {
        get { lock (_gate) return _seen; }
    }

    /// <summary>Inputs kept: all of them up to <see cref="Capacity"/>, then <see cref="Capacity"/>.</summary>
    public int Count
    {
        get { lock (_gate) return (int)Math.Min(_seen, Capacity); }
    }

    /// <summary>Offers one input: kept with probability Capacity / Seen, replacing a kept one chosen uniformly.</summary>
    public void Record(ReadOnlySpan<float> input)
    {
        if (input.Length != InputLength) throw new ArgumentException("An input holds " + InputLength + " values; this one holds " + input.Length + ".", nameof(input));
        lock (_gate)
        {
            long seen = ++_seen;
            // Uniform in [0, seen): the bias of a 64-bit word modulo seen is below seen / 2^64.
            long slot = seen <= Capacity ? seen - 1 : (long)(_random.Next() % (ulong)seen);
            if (slot < Capacity) input.CopyTo(_rows.AsSpan((int)slot * InputLength, InputLength));
        }
    }

    /// <summary>A copy of the kept inputs, one after another (Count × InputLength values).</summary>
    public float[] ToArray()
    {
        lock (_gate) return _rows.AsSpan(0, (int)Math.Min(_seen, Capacity) * InputLength).ToArray();
    }

    /// <summary>
    /// Saves the kept inputs as an .npy of shape [Count, <paramref name="inputShape"/>] (default [Count, InputLength]):
    /// the file a build names with <c>Calibration =</c>. Nothing recorded yet is an error, not an empty file.
    /// </summary>
    public void Save(string path, params int[] inputShape)
    {
        if (inputShape.Length > 0 && inputShape.Aggregate(1L, (a, b) => a * b) != InputLength)
            throw new ArgumentException("The shape [" + string.Join(", ", inputShape) + "] does not hold the " + InputLength + " values of an input.", nameof(inputShape));
        float[] rows = ToArray();
        if (rows.Length == 0) throw new InvalidOperationException("Nothing was recorded: call Record with the inputs the model runs on before saving.");
        int[] shape = new int[1 + Math.Max(1, inputShape.Length)];
        shape[0] = rows.Length / InputLength;
        if (inputShape.Length == 0) shape[1] = InputLength;
        else inputShape.CopyTo(shape, 1);
        NpyFile.Write(path, rows, shape);
    }
}
