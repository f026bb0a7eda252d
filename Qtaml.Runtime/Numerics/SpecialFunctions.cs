using System;
using System.Runtime.Intrinsics;

namespace Qtaml.Numerics;

/// <summary>
/// Functions that .NET's <see cref="Math"/> lacks and that generated code needs (the error function of an
/// exact GELU). Kept here, not inlined into every generated model, so there is one implementation to test.
/// </summary>
public static class SpecialFunctions
{
    /// <summary>
    /// The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, to within 1.5·10⁻⁷ absolutely
    /// (Abramowitz and Stegun 7.1.26, a rational approximation in t = 1/(1 + p·|x|), evaluated in double; 3·10⁻⁷
    /// once the result is rounded to float).
    /// </summary>
    public static float Erf(float x)
    {
        double a = Math.Abs((double)x);
        double t = 1.0 / (1.0 + 0.3275911 * a);
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double y = 1.0 - poly * Math.Exp(-a * a);
        return (float)(x < 0 ? -y : y);
    }

    /// <summary>GELU as its exact, erf-based definition: x·Φ(x) = x/2·(1 + erf(x/√2)).</summary>
    public static float Gelu(float x) => 0.5f * x * (1f + Erf(x * 0.70710678118654752f));

    /// <summary>
    /// erf of 8 values at once: the same rational approximation as <see cref="Erf(float)"/>, in float, with the
    /// vectorized exponential, all in float; within 5·10⁻⁷ of the exact value (the scalar form, in double, 3·10⁻⁷).
    /// </summary>
    public static Vector256<float> Erf(Vector256<float> x)
    {
        Vector256<float> a = Vector256.Abs(x);
        Vector256<float> t = Vector256<float>.One / (Vector256<float>.One + Vector256.Create(0.3275911f) * a);
        Vector256<float> poly = Vector256.Create(1.061405429f);
        poly = VectorMath.MultiplyAdd(poly, t, Vector256.Create(-1.453152027f));
        poly = VectorMath.MultiplyAdd(poly, t, Vector256.Create(1.421413741f));
        poly = VectorMath.MultiplyAdd(poly, t, Vector256.Create(-0.284496736f));
        poly = VectorMath.MultiplyAdd(poly, t, Vector256.Create(0.254829592f));
        poly *= t;
        Vector256<float> y = Vector256<float>.One - poly * VectorMath.Exp(-(a * a));
        // Put the sign of x back on.
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), -y, y);
    }

    /// <summary>GELU of 8 values at once: x/2·(1 + erf(x/√2)).</summary>
    public static Vector256<float> Gelu(Vector256<float> x) =>
        Vector256.Create(0.5f) * x * (Vector256<float>.One + Erf(x * Vector256.Create(0.70710678118654752f)));

    /// <summary>erf of 4 values at once: <see cref="Erf(Vector256{float})"/> at half the width (ARM64 NEON, x64 without AVX2).</summary>
    public static Vector128<float> Erf(Vector128<float> x)
    {
        Vector128<float> a = Vector128.Abs(x);
        Vector128<float> t = Vector128<float>.One / (Vector128<float>.One + Vector128.Create(0.3275911f) * a);
        Vector128<float> poly = Vector128.Create(1.061405429f);
        poly = VectorMath.MultiplyAdd(poly, t, Vector128.Create(-1.453152027f));
        poly = VectorMath.MultiplyAdd(poly, t, Vector128.Create(1.421413741f));
        poly = VectorMath.MultiplyAdd(poly, t, Vector128.Create(-0.284496736f));
        poly = VectorMath.MultiplyAdd(poly, t, Vector128.Create(0.254829592f));
        Vector128<float> y = Vector128<float>.One - poly * t * VectorMath.Exp(-(a * a));
        return Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<float>.Zero), -y, y);
    }

    /// <summary>GELU of 4 values at once: x/2·(1 + erf(x/√2)).</summary>
    public static Vector128<float> Gelu(Vector128<float> x) =>
        Vector128.Create(0.5f) * x * (Vector128<float>.One + Erf(x * Vector128.Create(0.70710678118654752f)));
}
