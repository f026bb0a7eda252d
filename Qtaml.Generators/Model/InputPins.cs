using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Qtaml.Generators.Model;

/// <summary>
/// What the user fixes about a model's inputs: shapes for symbolic dimensions (InputShape, batch first) and
/// inputs that are constants of the build (ConstantInputs). Parsed from the attribute's strings or the weight
/// file's MSBuild metadata; <see cref="Parse"/> throws <see cref="FormatException"/> with the reason.
/// </summary>
internal sealed class InputPins
{
    public static readonly InputPins None = new(null, new Dictionary<string, long[]>(StringComparer.Ordinal), new Dictionary<string, float[]>(StringComparer.Ordinal));

    private InputPins(long[]? unnamed, Dictionary<string, long[]> shapes, Dictionary<string, float[]> constants)
    {
        Unnamed = unnamed;
        Shapes = shapes;
        Constants = constants;
    }

    /// <summary>A shape given without a name: the shape of the model's only input.</summary>
    public long[]? Unnamed { get; }

    public IReadOnlyDictionary<string, long[]> Shapes { get; }

    public IReadOnlyDictionary<string, float[]> Constants { get; }

    /// <summary>The most dimensions and the most values one pin may give.</summary>
    private const int MaxRank = 8, MaxValues = 1 << 16;

    public static InputPins Parse(string? shape, string? constants)
    {
        long[]? unnamed = null;
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach ((string? name, string list) in Entries(shape, named: false))
        {
            long[] dims = list.Split(',').Select(part => long.TryParse(part.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long d) && d >= 1 && d <= 1L << 26
                ? d : throw new FormatException("'" + part.Trim() + "' is not a dimension from 1 to " + (1L << 26))).ToArray();
            if (dims.Length > MaxRank) throw new FormatException("a shape has at most " + MaxRank + " dimensions");
            if (name is null)
            {
                if (unnamed is not null || shapes.Count > 0) throw new FormatException("a shape without a name is only for a model's single input; name each input");
                unnamed = dims;
            }
            else if (unnamed is not null || !TryAdd(shapes, name, dims)) throw new FormatException("the input '" + name + "' is given twice, or with an unnamed shape");
        }
        var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach ((string? name, string list) in Entries(constants, named: true))
        {
            float[] numbers = list.Split(',').Select(part => float.TryParse(part.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && !float.IsNaN(v) && !float.IsInfinity(v)
                ? v : throw new FormatException("'" + part.Trim() + "' is not a finite number")).ToArray();
            if (numbers.Length > MaxValues) throw new FormatException("a constant input holds at most " + MaxValues + " values");
            if (!TryAdd(values, name!, numbers)) throw new FormatException("the input '" + name + "' is given twice");
        }
        return unnamed is null && shapes.Count == 0 && values.Count == 0 ? None : new InputPins(unnamed, shapes, values);
    }

    private static bool TryAdd<T>(Dictionary<string, T> map, string key, T value)
    {
        if (map.ContainsKey(key)) return false;
        map.Add(key, value);
        return true;
    }

    /// <summary>"a=1,2; b=3" as (name, "1,2"), (name, "3"); "1,2" as (null, "1,2") unless every entry must be named.</summary>
    private static IEnumerable<(string? Name, string List)> Entries(string? text, bool named)
    {
        if (string.IsNullOrWhiteSpace(text)) yield break;
        foreach (string entry in text!.Split(';').Select(e => e.Trim()).Where(e => e.Length > 0))
        {
            int equals = entry.IndexOf('=');
            if (equals < 0 && named) throw new FormatException("'" + entry + "' does not name its input (name=values)");
            string? name = equals < 0 ? null : entry.Substring(0, equals).Trim();
            if (name is { Length: 0 }) throw new FormatException("'" + entry + "' has an empty input name");
            string list = equals < 0 ? entry : entry.Substring(equals + 1);
            if (list.Trim().Length == 0) throw new FormatException("'" + entry + "' gives no values");
            yield return (name, list);
        }
    }
}
