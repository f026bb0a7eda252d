using System.Globalization;

namespace Qtaml.Generators.Emit;

/// <summary>
/// Writes the nested class that holds a generated class's <see cref="ConstantData"/>: the Z85 lines, the decoder
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
        w.Line("/// Baked as Z85 text (ZeroMQ RFC 32: four bytes as five digits of base 85) in UTF-8 literals, which the compiler");
        w.Line("/// keeps as the assembly's read-only data (no string heap, no array initializer to compile); decoded once, when a");
        w.Line("/// member first reads them.");
        w.Line("/// </summary>");
        using (w.Block("private static class " + ConstantData.ClassName))
        {
            w.Line("/// <summary>The decoded constants" + (images is null ? "" : ", the stored codes first") + ".</summary>");
            w.Line("public static readonly byte[] Bytes = Decode(" + (translates ? "stored: true" : "") + ");");
            w.Line();
            w.Line("/// <summary>The index in <see cref=\"Bytes\"/> of the constants' first byte: on a 64-byte boundary, so whole vectors of them are whole cache lines.</summary>");
            w.Line("public static readonly int Start = global::Qtaml.Numerics.AlignedArrays.Start(Bytes);");
            w.Line();
            w.Line("/// <summary>The <paramref name=\"count\"/> floats at byte <paramref name=\"offset\"/>, little-endian as every target of this code is.</summary>");
            w.Line("public static ReadOnlySpan<float> Floats(int offset, int count) => MemoryMarshal.Cast<byte, float>(new ReadOnlySpan<byte>(Bytes, Start + offset, 4 * count));");
            w.Line();
            w.Line("/// <summary>The <paramref name=\"count\"/> bytes at byte <paramref name=\"offset\"/>.</summary>");
            w.Line("public static ReadOnlyMemory<byte> Memory(int offset, int count) => new ReadOnlyMemory<byte>(Bytes, Start + offset, count);");
            w.Line();
            w.Line(translates
                ? "/// <summary>Decodes the constants; <paramref name=\"stored\"/>: with each layer's intended codes read through its table to the codes this build stores.</summary>"
                : "/// <summary>Decodes the constants.</summary>");
            using (w.Block("public static byte[] Decode(" + (translates ? "bool stored" : "") + ")"))
            {
                w.Line("if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException(\"The model's constants are baked little-endian.\");");
                w.Line("// Pinned, the constants from its first 64-byte boundary on (AlignedArrays.Start).");
                w.Line("byte[] bytes = global::Qtaml.Numerics.AlignedArrays.Allocate<byte>(" + length + ");");
                w.Line("int start = global::Qtaml.Numerics.AlignedArrays.Start(bytes);");
                w.Line("// Each character's digit value; 255 for a character outside the alphabet.");
                w.Line("Span<byte> digits = stackalloc byte[256];");
                w.Line("digits.Fill(255);");
                w.Line("ReadOnlySpan<byte> alphabet = \"" + Z85.Alphabet + "\"u8;");
                w.Line("for (int i = 0; i < alphabet.Length; i++) digits[alphabet[i]] = (byte)i;");
                using (w.Block("for (int line = 0, at = 0; line < " + I(data.LineCount) + "; line++, at += " + I(ConstantData.BytesPerLine) + ")"))
                    w.Line("DecodeLine(Line(line), bytes.AsSpan(start + at, Math.Min(" + I(ConstantData.BytesPerLine) + ", " + length + " - at)), digits);");
                if (translates)
                {
                    w.Line("if (!stored) return bytes;");
                    w.Line("// Mean correction stores each intended code as a code chosen for the layer (DESIGN 3.5.1): a table of 256 per layer.");
                    w.Line("ReadOnlySpan<int> layers = TranslatedLayers;");
                    w.Line("for (int l = 0; l < layers.Length; l += 3) Translate(bytes.AsSpan(start + layers[l], layers[l + 1]), bytes.AsSpan(start + layers[l + 2], 256));");
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
            WriteDecodeLine(w);
            w.Line("/// <summary>Line <paramref name=\"index\"/> of the Z85 text, " + I(ConstantData.BytesPerLine) + " bytes decoded (the last may be shorter).</summary>");
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

    /// <summary>The decoder of one line: the inverse of <see cref="Z85.Encode"/>, which pads a last partial group with zeros.</summary>
    private static void WriteDecodeLine(SourceWriter w)
    {
        w.Line("/// <summary>Decodes one line of Z85 text into <paramref name=\"bytes\"/>: each five digits, base 85, are four bytes big-endian; the last group may stand for fewer.</summary>");
        w.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        using (w.Block("private static void DecodeLine(ReadOnlySpan<byte> text, Span<byte> bytes, ReadOnlySpan<byte> digits)"))
        {
            w.Line("if (text.Length != (bytes.Length + 3) / 4 * 5) throw Altered();");
            using (w.Block("for (int group = 0, at = 0; at < bytes.Length; group += 5, at += 4)"))
            {
                w.Line("ulong value = 0;");
                using (w.Block("for (int i = 0; i < 5; i++)"))
                {
                    w.Line("byte digit = digits[text[group + i]];");
                    w.Line("if (digit >= 85) throw Altered();");
                    w.Line("value = value * 85 + digit;");
                }
                w.Line("// Five digits reach 85^5 - 1, past what four bytes hold: only an altered text gets there.");
                w.Line("if (value > uint.MaxValue) throw Altered();");
                w.Line("if (at + 4 <= bytes.Length) global::System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.Slice(at), (uint)value);");
                w.Line("else for (int b = 0; at + b < bytes.Length; b++) bytes[at + b] = (byte)((value >> (24 - 8 * b)) & 0xFF);");
            }
        }
        w.Line();
        w.Line("private static InvalidOperationException Altered() => new InvalidOperationException(\"The model's baked constants do not decode: the generated source was altered.\");");
        w.Line();
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
