using System.Globalization;
using Qtaml.Generators.Lowering;
using Qtaml.Generators.Network;
using Qtaml.Moments;

namespace Qtaml.Generators.Planning;

/// <summary>
/// The layout id a generated class stamps on its weight images (<c>WeightImage.LayoutId</c>): a hash of everything that
/// decides where a code sits — the bit width, the encoding, each layer's name, size and the position its kernel stores
/// every code at. Two builds agree on it exactly when an image of one can be run by the other, so a saved image of
/// another model, or of the same model compiled with other kernels, is refused instead of read scrambled.
/// </summary>
internal static class LayoutIdentity
{
    /// <summary>Bumped when the image's byte layout changes in a way the hash does not see (padding, code packing).</summary>
    private const int Scheme = 1;

    public static string Of(WeightLayer[] layers, Kernel[] kernels, int bits, CodeEncoding encoding)
    {
        // FNV-1a, 64 bits: stable across runs and platforms (string.GetHashCode is randomized per process).
        ulong hash = 14695981039346656037UL;
        void Add(long value)
        {
            for (int i = 0; i < 8; i++)
            {
                hash ^= (byte)(value >> (8 * i));
                hash *= 1099511628211UL;
            }
        }
        Add(Scheme);
        Add(bits);
        Add((long)encoding);
        for (int l = 0; l < layers.Length; l++)
        {
            foreach (char c in layers[l].Name) Add(c);
            Add(layers[l].Weights.Length);
            for (int i = 0; i < layers[l].Weights.Length; i++) Add(WeightOrder.StoredPosition(kernels[l], layers[l], i));
        }
        return "qtaml-layout-" + Scheme.ToString(CultureInfo.InvariantCulture) + ":" + hash.ToString("x16", CultureInfo.InvariantCulture);
    }
}
