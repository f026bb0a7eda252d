using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Qtaml.Generators.Safetensors;

/// <summary>
/// A strict reader for the small JSON header of a safetensors file: objects, arrays, strings, integers.
/// Written here rather than bundling System.Text.Json because a generator must load in every compiler host
/// with only what it ships, and this subset is all the format uses. Hostile input gets a
/// <see cref="FormatException"/>: depth, string and collection sizes are bounded.
/// </summary>
internal sealed class HeaderJson
{
    private const int MaxDepth = 16;
    private const int MaxItems = 1_000_000;
    private readonly string _text;
    private int _at;

    private HeaderJson(string text) => _text = text;

    /// <summary>Parses a JSON document into dictionaries, lists, strings and longs.</summary>
    public static object Parse(string text)
    {
        var reader = new HeaderJson(text);
        object value = reader.Value(0);
        reader.SkipSpace();
        if (reader._at != text.Length) throw new FormatException("unexpected text after the JSON header at offset " + reader._at);
        return value;
    }

    private object Value(int depth)
    {
        if (depth > MaxDepth) throw new FormatException("the JSON header nests too deeply");
        SkipSpace();
        if (_at >= _text.Length) throw new FormatException("the JSON header ends early");
        char c = _text[_at];
        if (c == '{') return Object(depth);
        if (c == '[') return Array(depth);
        if (c == '"') return String();
        if (c == '-' || (c >= '0' && c <= '9')) return Number();
        throw new FormatException("unexpected '" + c + "' in the JSON header at offset " + _at);
    }

    private Dictionary<string, object> Object(int depth)
    {
        var result = new Dictionary<string, object>(StringComparer.Ordinal);
        _at++;
        SkipSpace();
        if (Peek('}')) { _at++; return result; }
        while (true)
        {
            SkipSpace();
            string key = String();
            SkipSpace();
            Expect(':');
            // The format forbids a key twice; a reader that kept the first or the last would read another tensor than a peer.
            if (result.ContainsKey(key)) throw new FormatException("the key '" + key + "' appears twice");
            result[key] = Value(depth + 1);
            if (result.Count > MaxItems) throw new FormatException("the JSON header has too many entries");
            SkipSpace();
            if (Peek(',')) { _at++; continue; }
            Expect('}');
            return result;
        }
    }

    private List<object> Array(int depth)
    {
        var result = new List<object>();
        _at++;
        SkipSpace();
        if (Peek(']')) { _at++; return result; }
        while (true)
        {
            result.Add(Value(depth + 1));
            if (result.Count > MaxItems) throw new FormatException("a JSON array in the header is too long");
            SkipSpace();
            if (Peek(',')) { _at++; continue; }
            Expect(']');
            return result;
        }
    }

    private string String()
    {
        Expect('"');
        var text = new StringBuilder();
        while (true)
        {
            if (_at >= _text.Length) throw new FormatException("a string in the JSON header is not closed");
            char c = _text[_at++];
            if (c == '"') return text.ToString();
            if (c != '\\') { text.Append(c); continue; }
            if (_at >= _text.Length) throw new FormatException("a string in the JSON header ends in an escape");
            char e = _text[_at++];
            switch (e)
            {
                case '"': case '\\': case '/': text.Append(e); break;
                case 'n': text.Append('\n'); break;
                case 't': text.Append('\t'); break;
                case 'r': text.Append('\r'); break;
                case 'b': text.Append('\b'); break;
                case 'f': text.Append('\f'); break;
                case 'u':
                    if (_at + 4 > _text.Length || !int.TryParse(_text.Substring(_at, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int code))
                        throw new FormatException("a bad \\u escape in the JSON header");
                    text.Append((char)code);
                    _at += 4;
                    break;
                default: throw new FormatException("a bad escape in the JSON header");
            }
        }
    }

    private long Number()
    {
        int start = _at;
        if (Peek('-')) _at++;
        while (_at < _text.Length && char.IsDigit(_text[_at])) _at++;
        if (_at < _text.Length && (_text[_at] == '.' || _text[_at] == 'e' || _text[_at] == 'E'))
            throw new FormatException("the safetensors header holds only integers");
        if (!long.TryParse(_text.Substring(start, _at - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            throw new FormatException("a number in the JSON header is out of range");
        return value;
    }

    private void SkipSpace()
    {
        while (_at < _text.Length && char.IsWhiteSpace(_text[_at])) _at++;
    }

    private bool Peek(char c) => _at < _text.Length && _text[_at] == c;

    private void Expect(char c)
    {
        if (!Peek(c)) throw new FormatException("expected '" + c + "' in the JSON header at offset " + _at);
        _at++;
    }
}
