using System.Collections.Generic;
using Qtaml.Generators.Planning;

namespace Qtaml.Generators.Emit;

/// <summary>One layer's translation from intended to stored codes: its codes' bytes and its table's offset in the blob.</summary>
internal readonly record struct CodeTranslation(int Offset, int Count, int Table);

/// <summary>
/// Where a quantized build's weight images sit in its <see cref="ConstantData"/>: the stored image at offset 0 (as
/// baked, or as the intended image translated there when the class decodes it), and the intended image.
/// </summary>
internal sealed class BakedImages
{
    private BakedImages(int length, int intendedOffset, IReadOnlyList<CodeTranslation> translations)
    {
        Length = length;
        IntendedOffset = intendedOffset;
        Translations = translations;
    }

    /// <summary>The bytes of one image.</summary>
    public int Length { get; }

    /// <summary>Where the intended image starts in the blob as baked (before any translation).</summary>
    public int IntendedOffset { get; }

    /// <summary>The layers whose stored codes differ from their intended codes, when they are derived by table; empty otherwise.</summary>
    public IReadOnlyList<CodeTranslation> Translations { get; }

    /// <summary>True when the weights are baked once and the stored image is derived from them.</summary>
    public bool IsDerived => IntendedOffset == 0;

    /// <summary>Adds <paramref name="plan"/>'s images to <paramref name="data"/>, which must still be empty: once, with tables, where the plan allows.</summary>
    public static BakedImages Add(ConstantData data, ModelPlan plan)
    {
        byte[]?[]? tables = StoredCodeTables.Derive(plan);
        if (tables is null)
        {
            data.Add(plan.Image);
            return new BakedImages(plan.Image.Length, data.Add(plan.IntendedImage), System.Array.Empty<CodeTranslation>());
        }
        data.Add(plan.IntendedImage);
        var translations = new List<CodeTranslation>();
        for (int l = 0; l < tables.Length; l++)
            if (tables[l] is { } table) translations.Add(new CodeTranslation(plan.LayerOffsets[l], plan.Layers[l].StoredCodes.Length, data.Add(table)));
        return new BakedImages(plan.Image.Length, 0, translations);
    }
}
