using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Qtaml.Generators.Emit.Kernels;

/// <summary>
/// Index arithmetic folded at generation time: loop counters times constant strides plus one constant, with
/// zero terms dropped and unit strides unwritten, so a kernel reads <c>oy * 48 + ox * 8 + ic</c> rather than
/// <c>((oy * 1 + ky * 0) * 6 + ox * 1) * 8 + 0 + ic</c>.
/// </summary>
internal static class IndexExpression
{
    public static string Of(long constant, params (string Name, long Stride)[] terms)
    {
        var parts = new List<string>();
        foreach ((string name, long stride) in terms.Where(t => t.Stride != 0 && t.Name.Length > 0))
            parts.Add(stride == 1 ? name : name + " * " + stride.ToString(CultureInfo.InvariantCulture));
        if (constant != 0 || parts.Count == 0) parts.Add(constant.ToString(CultureInfo.InvariantCulture));
        return string.Join(" + ", parts);
    }

    /// <summary><paramref name="expression"/> plus a constant, written without a "+ 0".</summary>
    public static string Plus(string expression, long constant) =>
        constant == 0 ? expression : expression + " + " + constant.ToString(CultureInfo.InvariantCulture);
}
