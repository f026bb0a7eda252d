using System.Globalization;
using System.Text;

namespace Qtaml.Generators.Emit;

/// <summary>
/// The one way text from outside the generator (a weight file's node and tensor names, the attribute's path)
/// reaches generated source: one function per output context. A weight file is hostile input, and each context
/// has characters that end it early: a C# line terminator (CR, LF, U+0085, U+2028, U+2029) ends a <c>//</c>
/// comment and whatever follows is compiled; <c>&lt;</c> and <c>&amp;</c> open markup in an XML doc comment;
/// a quote ends a string literal. Beyond those, every context also neutralises what makes source lie to its
/// reader or its tools: bidirectional controls (U+202A-U+202E, U+2066-U+2069, "Trojan Source"), NUL and the
/// other control characters, and lone surrogates (not valid UTF-16, so not valid in a source file).
/// </summary>
internal static class Escape
{
    /// <summary>Text for the body of a <c>//</c> comment: it stays on one line and reads as it was, unsafe characters as <c>\uXXXX</c>.</summary>
    public static string LineComment(string text) => Printable(text, xml: false);

    /// <summary>Text for the body of a <c>///</c> XML doc element: markup characters as entities, unsafe characters as <c>\uXXXX</c>.</summary>
    public static string XmlDoc(string text) => Printable(text, xml: true);

    /// <summary>A regular C# string literal, quotes included, whose value is exactly <paramref name="text"/>.</summary>
    public static string StringLiteral(string text)
    {
        var literal = new StringBuilder(text.Length + 2).Append('"');
        foreach (char c in text)
        {
            if (c == '"' || c == '\\') literal.Append('\\').Append(c);
            else if (c < 32 || c > 126) AppendEscape(literal, c);
            else literal.Append(c);
        }
        return literal.Append('"').ToString();
    }

    /// <summary>
    /// A fragment of a C# identifier: ASCII letters, digits and underscores only, every other character as
    /// <c>_</c>. A fragment that starts with a digit gets a leading underscore, so it is also valid on its own.
    /// </summary>
    public static string Identifier(string text)
    {
        var identifier = new StringBuilder(text.Length + 1);
        foreach (char c in text)
            identifier.Append(c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_' ? c : '_');
        if (identifier.Length == 0 || char.IsDigit(identifier[0])) identifier.Insert(0, '_');
        return identifier.ToString();
    }

    private static string Printable(string text, bool xml)
    {
        var result = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                // A whole surrogate pair is one ordinary character (an emoji, a CJK extension).
                result.Append(c).Append(text[++i]);
            }
            else if (IsUnsafe(c)) AppendEscape(result, c);
            else if (c == '\\' && i + 1 < text.Length && text[i + 1] == 'u')
            {
                // A literal "\u" would read as one of our escapes; keep the reading unambiguous.
                result.Append("\\\\");
            }
            else if (xml && c == '&') result.Append("&amp;");
            else if (xml && c == '<') result.Append("&lt;");
            else if (xml && c == '>') result.Append("&gt;");
            else if (c == '*' && i + 1 < text.Length && text[i + 1] == '/')
            {
                // "*/" would close a block comment around this text if one is ever written.
                result.Append("*\\u002F");
                i++;
            }
            else result.Append(c);
        }
        return result.ToString();
    }

    /// <summary>Characters that must never appear as themselves in generated source.</summary>
    private static bool IsUnsafe(char c) =>
        c < 32 || c == 127                                    // NUL, CR, LF, tab and the other C0 controls, DEL
        || c is >= '\u0080' and <= '\u009F'                   // C1 controls, U+0085 (NEL) among them
        || c is '\u2028' or '\u2029'                          // line and paragraph separators
        || c is >= '\u202A' and <= '\u202E'                   // bidirectional embeddings and overrides
        || c is >= '\u2066' and <= '\u2069'                   // bidirectional isolates
        || c is '\u200E' or '\u200F' or '\u061C'              // directional marks
        || c is '\uFEFF'                                      // byte-order mark
        || char.IsSurrogate(c);                               // a surrogate not in a pair

    private static void AppendEscape(StringBuilder text, char c) =>
        text.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
}
