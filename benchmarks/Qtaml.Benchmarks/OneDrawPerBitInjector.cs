using Qtaml.Faults;

namespace Qtaml.Benchmarks;

/// <summary>
/// The baseline a fault injector is measured against: walk every unprotected bit, draw one uniform
/// number, flip when it falls below p. Same generator as the real injector (xoshiro256++), so the
/// ratio measures the sampling method, not the generator.
/// </summary>
internal static class OneDrawPerBitInjector
{
    public static long Inject(Span<byte> codes, int unprotectedPlanes, double p, ulong seed)
    {
        var random = new Xoshiro256PlusPlus(seed);
        long flipped = 0;
        for (int i = 0; i < codes.Length; i++)
        {
            int code = codes[i];
            for (int k = 0; k < 8; k++)
            {
                if ((unprotectedPlanes & (1 << k)) == 0) continue;
                if (random.NextDouble() < p)
                {
                    code ^= 1 << k;
                    flipped++;
                }
            }
            codes[i] = (byte)code;
        }
        return flipped;
    }
}
