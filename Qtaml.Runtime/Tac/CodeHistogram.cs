using System;
using System.Collections.Generic;
using Qtaml.Moments;

namespace Qtaml.Tac;

/// <summary>
/// A layer's codes as a multiset: each distinct code, ascending, and how many weights hold it. Profiles, mean
/// correction and the do-no-harm bound depend on a layer's codes only through it, so the order codes are kept in (the
/// weights' row-major order in a build, the kernel's storage order in a weight image) cannot change a plan: the build
/// and <c>QuantizedModel.CreateImage</c> design the same plan from the same histogram, bit for bit.
/// </summary>
public sealed class CodeHistogram
{
    private readonly int[] _values;
    private readonly long[] _counts;

    private CodeHistogram(int[] values, long[] counts, long total)
    {
        _values = values;
        _counts = counts;
        Total = total;
    }

    /// <summary>The distinct codes, ascending.</summary>
    public IReadOnlyList<int> Values => _values;

    /// <summary>How many weights hold each of <see cref="Values"/>.</summary>
    public IReadOnlyList<long> Counts => _counts;

    /// <summary>n: the number of weights.</summary>
    public long Total { get; }

    /// <summary>The histogram of <paramref name="codes"/>, each a <paramref name="bits"/>-bit code (either encoding's range).</summary>
    public static CodeHistogram Of(IReadOnlyList<int> codes, int bits)
    {
        if (codes is null) throw new ArgumentNullException(nameof(codes));
        StoredCode.ValidateBits(bits);
        int minCode = StoredCode.MinCode(bits), maxCode = StoredCode.MaxCode(bits);
        var dense = new long[maxCode - minCode + 1];
        for (int i = 0; i < codes.Count; i++)
        {
            StoredCode.ValidateCode(codes[i], bits, nameof(codes));
            dense[codes[i] - minCode]++;
        }
        int distinct = 0;
        foreach (long count in dense) if (count > 0) distinct++;
        var values = new int[distinct];
        var counts = new long[distinct];
        for (int slot = 0, v = 0; slot < dense.Length; slot++)
        {
            if (dense[slot] == 0) continue;
            values[v] = minCode + slot;
            counts[v++] = dense[slot];
        }
        return new CodeHistogram(values, counts, codes.Count);
    }

    /// <summary>The index of <paramref name="code"/> in <see cref="Values"/>, or a negative number if no weight holds it.</summary>
    public int IndexOf(int code) => Array.BinarySearch(_values, code);
}
