using System.Globalization;

namespace Qtaml.Generators.Emit;

/// <summary>
/// Writes the nested class that holds a generated class's <see cref="ConstantData"/>: the base64 lines, the decoder
/// and, for a quantized build, the translation of intended codes to stored codes (<see cref="BakedImages"/>). A
/// nested class, so the blob is decoded on first use whatever order the outer class's initializers run in.
/// </summary>
internal static class BakedDataWriter
{
    public static void Write(SourceWriter w, ConstantData data, BakedImages? images)
    {
        string length = I(data.Length);
        bool translates = images is { IsDerived: true, Translations.Count: > 0 };
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// The model's constants, " + length + " bytes" + Contents(images) + ".");
        w.Line("/// Baked as base64 in UTF-8 literals, which the compiler keeps as the assembly's read-only data (no string heap, no");
        w.Line("/// array initializer to compile); decoded once, when a member first reads them.");
        w.Line("/// </summary>");
        using (w.Block("private static class " + ConstantData.ClassName))
        {
            w.Line("/// <summary>The decoded constants" + (images is null ? "" : ", the stored codes first") + ".</summary>");
            w.Line("public static readonly byte[] Bytes = Decode(" + (translates ? "stored: true" : "") + ");");
            w.Line();
            w.Line("/// <summary>The <paramref name=\"count\"/> floats at byte <paramref name=\"offset\"/>, little-endian as every target of this code is.</summary>");
            w.Line("public static ReadOnlySpan<float> Floats(int offset, int count) => MemoryMarshal.Cast<byte, float>(new ReadOnlySpan<byte>(Bytes, offset, 4 * count));");
            w.Line();
            w.Line(translates
                ? "/// <summary>Decodes the constants; <paramref name=\"stored\"/>: with each layer's intended codes read through its table to the codes this build stores.</summary>"
                : "/// <summary>Decodes the constants.</summary>");
            using (w.Block("public static byte[] Decode(" + (translates ? "bool stored" : "") + ")"))
            {
                w.Line("if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException(\"The model's constants are baked little-endian.\");");
                w.Line("byte[] bytes = new byte[" + length + "];");
                w.Line("int at = 0;");
                using (w.Block("for (int line = 0; line < " + I(data.LineCount) + "; line++)"))
                {
                    w.Line("global::System.Buffers.OperationStatus status = global::System.Buffers.Text.Base64.DecodeFromUtf8(Line(line), bytes.AsSpan(at), out _, out int written);");
                    w.Line("if (status != global::System.Buffers.OperationStatus.Done) throw new InvalidOperationException(\"The model's baked constants do not decode: the generated source was altered.\");");
                    w.Line("at += written;");
                }
                if (translates)
                {
                    w.Line("if (!stored) return bytes;");
                    w.Line("// Mean correction stores each intended code as a code chosen for the layer (DESIGN 3.5.1): a table of 256 per layer.");
                    w.Line("ReadOnlySpan<int> layers = TranslatedLayers;");
                    w.Line("for (int l = 0; l < layers.Length; l += 3) Translate(bytes.AsSpan(layers[l], layers[l + 1]), bytes.AsSpan(layers[l + 2], 256));");
                }
                w.Line("return bytes;");
            }
            w.Line();
            if (translates)
            {
                w.Line("/// <summary>Per translated layer: where its codes start, how many bytes they are, where its table starts.</summary>");
                w.Line("private static ReadOnlySpan<int> TranslatedLayers => new int[]");
                w.Line("{");
                foreach (CodeTranslation t in images!.Translations) w.Line("    " + I(t.Offset) + ", " + I(t.Count) + ", " + I(t.Table) + ",");
                w.Line("};");
                w.Line();
                w.Line("/// <summary>Replaces each code with its entry in <paramref name=\"table\"/>.</summary>");
                using (w.Block("private static void Translate(Span<byte> codes, ReadOnlySpan<byte> table)"))
                    w.Line("for (int i = 0; i < codes.Length; i++) codes[i] = table[codes[i]];");
                w.Line();
            }
            w.Line("/// <summary>Line <paramref name=\"index\"/> of the base64 text, " + I(ConstantData.BytesPerLine) + " bytes decoded (the last may be shorter).</summary>");
            w.Line("private static ReadOnlySpan<byte> Line(int index) => index switch");
            w.Line("{");
            for (int n = 0; n < data.LineCount; n++) w.Line("    " + I(n) + " => Line" + I(n) + ",");
            w.Line("    _ => throw new ArgumentOutOfRangeException(nameof(index)),");
            w.Line("};");
            w.Line();
            // One property per line: a literal in each arm of the switch costs the compiler five times the memory (measured).
            int line = 0;
            foreach (string text in data.Lines())
                w.Line("private static ReadOnlySpan<byte> Line" + I(line++) + " => " + text + ";");
        }
    }

    private static string Contents(BakedImages? images) => images switch
    {
        null => ": the kernels' weight tables and constant arrays",
        { IsDerived: true, Translations.Count: > 0 } => ": the intended codes of every layer, each translated layer's table of stored codes, then the kernels' constant arrays",
        { IsDerived: true } => ": the codes of every layer (stored as intended), then the kernels' constant arrays",
        _ => ": the stored codes of every layer, the intended codes, then the kernels' constant arrays",
    };

    private static string I(long value) => value.ToString(CultureInfo.InvariantCulture);
}
