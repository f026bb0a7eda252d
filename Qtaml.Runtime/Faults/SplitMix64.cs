namespace Qtaml.Faults;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, 2014): turns one 64-bit seed into a stream of well-mixed words.
/// Used only to seed the xoshiro generators and to derive independent per-trial and per-layer seeds.
/// </summary>
internal struct SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A seed for stream <paramref name="index"/> of <paramref name="seed"/>: independent of how many streams are drawn or in what order.</summary>
    public static ulong Derive(ulong seed, ulong index)
    {
        var mixer = new SplitMix64(seed ^ (index * 0xD1B54A32D192ED03UL));
        mixer.Next();
        return mixer.Next();
    }
}
