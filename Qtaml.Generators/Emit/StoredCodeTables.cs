using Qtaml.Generators.Planning;

namespace Qtaml.Generators.Emit;

/// <summary>
/// How a build bakes its two images of the weights (the intended codes, which <c>Quantized</c> plans from, and the
/// codes stored for its own plan) without writing the weights twice. Mean correction chooses each stored code from
/// the intended code alone, one choice per layer (DESIGN 3.5.1), so for codes of one byte the stored image is the
/// intended image read through a 256-entry table per layer. The tables are derived here from the two images
/// themselves, not from the correction's rules, so a correction that ever stops being a per-code function is
/// caught: then there are no tables, and both images are baked.
/// </summary>
internal static class StoredCodeTables
{
    /// <summary>
    /// Per weight layer, the table that maps an intended code byte to the stored one, or null where they are equal
    /// (no translation needed); null as a whole when the stored image is not such a function of the intended one
    /// (codes wider than a byte, or a correction that treats equal codes differently).
    /// </summary>
    public static byte[]?[]? Derive(ModelPlan plan)
    {
        if (plan.BytesPerCode != 1) return null;
        var tables = new byte[]?[plan.Layers.Length];
        for (int l = 0; l < plan.Layers.Length; l++)
        {
            int start = plan.LayerOffsets[l], count = plan.Layers[l].StoredCodes.Length;
            var table = new int[256];
            for (int i = 0; i < 256; i++) table[i] = -1;
            bool identity = true;
            for (int i = start; i < start + count; i++)
            {
                byte intended = plan.IntendedImage[i], stored = plan.Image[i];
                if (table[intended] < 0) table[intended] = stored;
                else if (table[intended] != stored) return null;
                identity &= intended == stored;
            }
            if (identity) continue;
            var bytes = new byte[256];
            // Patterns the layer never holds map to themselves, so the table is a whole, readable function.
            for (int i = 0; i < 256; i++) bytes[i] = (byte)(table[i] < 0 ? i : table[i]);
            tables[l] = bytes;
        }
        return Reproduces(plan, tables) ? tables : null;
    }

    /// <summary>Whether the intended image read through <paramref name="tables"/> (each layer's codes only) is the stored image, byte for byte, padding included.</summary>
    private static bool Reproduces(ModelPlan plan, byte[]?[] tables)
    {
        if (plan.IntendedImage.Length != plan.Image.Length) return false;
        var translated = (byte[])plan.IntendedImage.Clone();
        for (int l = 0; l < tables.Length; l++)
        {
            if (tables[l] is not { } table) continue;
            for (int i = plan.LayerOffsets[l], end = i + plan.Layers[l].StoredCodes.Length; i < end; i++) translated[i] = table[translated[i]];
        }
        for (int i = 0; i < translated.Length; i++)
            if (translated[i] != plan.Image[i]) return false;
        return true;
    }
}
