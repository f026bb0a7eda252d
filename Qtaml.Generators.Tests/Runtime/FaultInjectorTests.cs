using Qtaml.Faults;
using Qtaml.Generators.Tests.Support;
using Qtaml.Moments;
using Qtaml.Physics;

namespace Qtaml.Generators.Tests.Runtime;

/// <summary>DESIGN 8: the fault injector's invariants.</summary>
public class FaultInjectorTests
{
    private static WeightImage RandomImage(int bits, int[] counts, int seed)
    {
        var random = new Random(seed);
        return WeightImage.FromCodes(bits, counts.Select((_, l) => $"layer{l}").ToArray(),
            counts.Select(n => (IReadOnlyList<int>)Enumerable.Range(0, n).Select(_ => random.Next(StoredCode.MinCode(bits), StoredCode.MaxCode(bits) + 1)).ToArray()).ToArray());
    }

    public static TheoryData<int, double, double> Models => new()
    {
        { 8, 0.1, 0.1 },     // the paper's symmetric setting: bit-sliced masks
        { 8, 0.1, 0.02 },    // asymmetric: two masks
        { 8, 0.003, 0.0 },   // one-directional, small p: geometric skipping
        { 12, 0.1, 0.03 },   // 16-bit storage
        { 5, 0.003, 0.001 }, // asymmetric skipping with thinning, 5-bit codes in bytes
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Per_bit_flip_frequencies_match_p10_and_p01_and_protected_planes_never_flip(int bits, double p10, double p01)
    {
        int[] counts = { 300_001, 200_003 };
        int[] protectedPlanes = { 2, 0 };
        WeightImage clean = RandomImage(bits, counts, seed: bits);
        WeightImage image = clean.Clone();
        long reported = new TunnelingFaultModel(new FlipProbabilities(p10, p01)).Inject(image, protectedPlanes, seed: 11);

        long observedFlips = 0;
        for (int layer = 0; layer < counts.Length; layer++)
        {
            var ones = new long[bits];
            var zeros = new long[bits];
            var onesFlipped = new long[bits];
            var zerosFlipped = new long[bits];
            for (int i = 0; i < counts[layer]; i++)
            {
                int before = clean.GetCode(layer, i), after = image.GetCode(layer, i);
                for (int k = 0; k < bits; k++)
                {
                    bool wasOne = StoredCode.BitIsSet(before, k), flipped = wasOne != StoredCode.BitIsSet(after, k);
                    if (wasOne) { ones[k]++; if (flipped) onesFlipped[k]++; }
                    else { zeros[k]++; if (flipped) zerosFlipped[k]++; }
                    if (flipped) observedFlips++;
                }
            }
            for (int k = 0; k < bits; k++)
            {
                if (k >= bits - protectedPlanes[layer])
                {
                    Assert.Equal(0, onesFlipped[k] + zerosFlipped[k]);
                    continue;
                }
                double rate10 = (double)onesFlipped[k] / ones[k], rate01 = (double)zerosFlipped[k] / zeros[k];
                Assert.True(Math.Abs(rate10 - p10) <= Sigma.FrequencyBand(p10, ones[k]), $"layer {layer} plane {k}: 1→0 rate {rate10}, p10 {p10}");
                Assert.True(Math.Abs(rate01 - p01) <= Sigma.FrequencyBand(p01, zeros[k]), $"layer {layer} plane {k}: 0→1 rate {rate01}, p01 {p01}");
            }
        }
        Assert.Equal(observedFlips, reported);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.3)]
    [InlineData(0.0371)]
    [InlineData(0.0025)]
    public void The_overall_flip_rate_matches_p_to_the_precision_of_32_million_bits(double p)
    {
        // 4σ over 2^25 bits is about 2e-4 at p = 0.1: tight enough to catch an error in the rare lanes the mask
        // sampler settles one by one (one lane in 1024, so any bias there moves the rate by up to 1e-3).
        const int bytes = 1 << 22;
        var image = WeightImage.Allocate(8, new[] { "w" }, new[] { bytes });
        long reported = TunnelingFaultModel.Symmetric(p).Inject(image, new[] { 0 }, seed: 2024);
        long observed = 0;
        foreach (byte b in image.Bytes) observed += System.Numerics.BitOperations.PopCount(b);   // the image started all zeros
        long bits = 8L * bytes;
        Assert.Equal(observed, reported);
        Assert.True(Math.Abs((double)observed / bits - p) <= Sigma.FrequencyBand(p, bits), $"rate {(double)observed / bits}, p {p}");
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.003)]
    public void Flips_are_independent_between_neighbouring_bits(double p)
    {
        // Joint flips of adjacent planes of one code and of the same plane of adjacent codes happen at p²,
        // as they must if every bit flips on its own.
        const int bits = 8, n = 400_000;
        WeightImage clean = RandomImage(bits, new[] { n }, 1), image = clean.Clone();
        TunnelingFaultModel.Symmetric(p).Inject(image, new[] { 0 }, seed: 5);
        long adjacentPlanes = 0, adjacentCodes = 0;
        for (int i = 0; i < n; i++)
        {
            int diff = clean.GetCode(0, i) ^ image.GetCode(0, i);
            if ((diff & 0b11) == 0b11) adjacentPlanes++;
            if (i > 0 && ((diff & 1) != 0) && (((clean.GetCode(0, i - 1) ^ image.GetCode(0, i - 1)) & 1) != 0)) adjacentCodes++;
        }
        Assert.True(Math.Abs((double)adjacentPlanes / n - p * p) <= Sigma.FrequencyBand(p * p, n));
        Assert.True(Math.Abs((double)adjacentCodes / (n - 1) - p * p) <= Sigma.FrequencyBand(p * p, n - 1));
    }

    [Fact]
    public void Zero_probability_leaves_every_bit_identical()
    {
        WeightImage clean = RandomImage(8, new[] { 1000, 33 }, 2), image = clean.Clone();
        Assert.Equal(0, new TunnelingFaultModel(FlipProbabilities.None).Inject(image, new[] { 0, 0 }, seed: 1));
        Assert.True(clean.Bytes.SequenceEqual(image.Bytes));
    }

    [Fact]
    public void Full_protection_leaves_every_bit_identical_at_any_probability()
    {
        WeightImage clean = RandomImage(12, new[] { 1000, 33 }, 2), image = clean.Clone();
        Assert.Equal(0, TunnelingFaultModel.Symmetric(0.4).Inject(image, new[] { 12, 12 }, seed: 1));
        Assert.True(clean.Bytes.SequenceEqual(image.Bytes));
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.001)]
    public void The_same_seed_gives_the_same_faults_and_another_seed_others(double p)
    {
        WeightImage clean = RandomImage(8, new[] { 5000, 77 }, 3);
        WeightImage first = clean.Clone(), second = clean.Clone(), third = clean.Clone();
        var model = TunnelingFaultModel.Symmetric(p);
        model.Inject(first, new[] { 1, 0 }, seed: 42);
        model.Inject(second, new[] { 1, 0 }, seed: 42);
        model.Inject(third, new[] { 1, 0 }, seed: 43);
        Assert.True(first.Bytes.SequenceEqual(second.Bytes));
        Assert.False(first.Bytes.SequenceEqual(third.Bytes));
    }

    [Fact]
    public void Padding_between_layers_never_flips()
    {
        // Layers of 33 and 7 codes leave padding up to 32-byte boundaries; it must stay zero.
        WeightImage image = RandomImage(8, new[] { 33, 7, 64 }, 4);
        TunnelingFaultModel.Symmetric(0.45).Inject(image, new[] { 0, 0, 0 }, seed: 9);
        ReadOnlySpan<byte> bytes = image.Bytes;
        foreach (WeightSegment segment in image.Layers)
        {
            int end = segment.ByteOffset + (segment.ByteLength + WeightImage.Alignment - 1) / WeightImage.Alignment * WeightImage.Alignment;
            for (int i = segment.ByteOffset + segment.ByteLength; i < end; i++) Assert.Equal(0, bytes[i]);
        }
    }

    [Fact]
    public void Codes_narrower_than_their_storage_never_flip_the_unused_high_bits()
    {
        WeightImage image = RandomImage(5, new[] { 10_000 }, 6);
        TunnelingFaultModel.Symmetric(0.3).Inject(image, new[] { 0 }, seed: 2);
        foreach (byte pattern in image.Patterns8(0)) Assert.Equal(0, pattern & 0b1110_0000);
    }

    [Fact]
    public void Wrong_protection_is_rejected_with_a_message_that_says_what_to_do()
    {
        WeightImage image = RandomImage(8, new[] { 10, 10 }, 7);
        var model = TunnelingFaultModel.Symmetric(0.1);
        Assert.Contains("one entry per layer", Assert.Throws<ArgumentException>(() => model.Inject(image, new[] { 1 }, 0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Inject(image, new[] { 1, 9 }, 0));
        Assert.Throws<ArgumentNullException>(() => model.Inject(null!, new[] { 1, 1 }, 0));
    }
}
