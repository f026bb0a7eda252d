using System.Runtime.Intrinsics;
using Qtaml.Numerics;

namespace Qtaml.Generators.Tests.Runtime;

/// <summary>erf and GELU, which generated transformer code calls, against a high-precision reference.</summary>
public class SpecialFunctionTests
{
    /// <summary>erf by its Maclaurin series in double: 2/√π Σ (−1)ⁿ x^(2n+1) / (n!(2n+1)); its largest term is below e^(x²), so to 1e-10 for |x| ≤ 3.5.</summary>
    private static double ReferenceErf(double x)
    {
        double sum = 0, term = x;
        for (int n = 0; n < 200; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }


    [Fact]
    public void Erf_is_within_3e_7_scalar_and_5e_7_vectorized_of_the_series_from_minus_3_5_to_3_5()
    {
        double worstScalar = 0, worstVector = 0;
        for (int i = -3500; i < 3500; i += 8)
        {
            var xs = Enumerable.Range(0, 8).Select(k => (i + k) / 1000f).ToArray();
            Vector256<float> v = SpecialFunctions.Erf(Vector256.Create(xs));
            for (int k = 0; k < 8; k++)
            {
                double exact = ReferenceErf(xs[k]);
                worstScalar = Math.Max(worstScalar, Math.Abs(SpecialFunctions.Erf(xs[k]) - exact));
                worstVector = Math.Max(worstVector, Math.Abs(v[k] - exact));
            }
        }
        // 1.5e-7 from the approximation, plus float rounding of a result near 1 (half an ulp is 6e-8); the vector
        // form also evaluates the polynomial and the exponential in float (a few ulps more).
        Assert.True(worstScalar <= 3e-7, $"scalar: {worstScalar:G3}");
        Assert.True(worstVector <= 5e-7, $"vectorized: {worstVector:G3}");
        // Beyond, erf is within erfc(3.5) = 7.4e-7 of ±1.
        foreach (float x in new[] { 3.5f, 4f, 6f, 10f, 100f })
        {
            Assert.InRange(SpecialFunctions.Erf(x), 1 - 1e-6, 1.0);
            Assert.InRange(SpecialFunctions.Erf(-x), -1.0, -1 + 1e-6);
            Assert.InRange(SpecialFunctions.Erf(Vector256.Create(x))[0], 1 - 1e-6, 1.0);
        }
    }

    [Fact]
    public void Gelu_is_x_times_the_normal_cdf_scalar_and_vectorized_alike()
    {
        float[] xs = { -4.5f, -2.5f, -1f, -0.1f, 0f, 0.3f, 1f, 2f, 4.5f };
        foreach (float x in xs)
        {
            double exact = x * 0.5 * (1 + ReferenceErf(x / Math.Sqrt(2)));
            Assert.True(Math.Abs(SpecialFunctions.Gelu(x) - exact) <= 2e-6, $"GELU({x}) = {SpecialFunctions.Gelu(x)}, expected {exact}");
            Assert.True(Math.Abs(SpecialFunctions.Gelu(Vector256.Create(x))[3] - exact) <= 2e-6, $"vector GELU({x})");
        }
    }

    /// <summary>
    /// The exponential the .NET 8 build uses in vector kernels (softmax, GELU): within 2 ulp of e^x, in double, over
    /// the range where e^x is a normal float, on a dense grid and at the ends of its range reduction.
    /// </summary>
    [Fact]
    public void Vector_exponential_polynomial_is_within_2_ulp_of_exp_over_the_normal_range()
    {
        var xs = new List<float>();
        for (float x = -87.3f; x <= 88.37f; x += 0.0137f) xs.Add(x);
        xs.AddRange(new[] { 0f, -0f, 0.34657359f, -0.34657359f, 1e-8f, -1e-8f, 88.37f, -87.3f });
        for (int i = 0; i + 8 <= xs.Count; i += 8)
        {
            var v = System.Runtime.Intrinsics.Vector256.Create(xs.GetRange(i, 8).ToArray());
            var e = Qtaml.Numerics.VectorMath.ExpPolynomial(v);
            for (int k = 0; k < 8; k++)
            {
                double exact = Math.Exp(xs[i + k]);
                double ulp = MathF.BitIncrement((float)exact) - (float)exact;
                Assert.True(Math.Abs(e[k] - exact) <= 2 * ulp, $"exp({xs[i + k]}): {e[k]} against {exact} ({Math.Abs(e[k] - exact) / ulp:F2} ulp)");
            }
        }
    }

    /// <summary>
    /// x^y of positive bases as e^(y·ln x) (the vector loop of a Pow by one constant, an LRN's divisor): the logarithm's
    /// rounding is scaled by |y·ln x| before the exponential, so the bound is that many ulp and a few more.
    /// </summary>
    [Theory]
    [InlineData(-0.75f)]
    [InlineData(0.75f)]
    [InlineData(3f)]
    [InlineData(-2.5f)]
    [InlineData(1.5f)]
    public void Vector_power_of_positive_bases_is_within_3_plus_2_y_ln_x_ulp_at_every_width(float y)
    {
        var bases = new List<float>();
        for (float x = 1e-6f; x < 1e6f; x *= 1.0137f) bases.Add(x);
        bases.AddRange(new[] { 1f, 1.0001f, 0.9999f, 2f, 0.5f, 1e-10f, 1e10f });
        while (bases.Count % 16 != 0) bases.Add(1f);
        double worst = 0;
        void Check(int index, float actual)
        {
            double exact = Math.Pow(bases[index], y);
            if (exact > float.MaxValue || exact < 1e-37) return;   // past the normal floats: not this kernel's range
            double ulp = MathF.BitIncrement((float)exact) - (float)exact;
            double allowed = 3 + 2 * Math.Abs(y * Math.Log(bases[index]));
            double error = Math.Abs(actual - exact) / ulp;
            worst = Math.Max(worst, error / allowed);
            Assert.True(error <= allowed, $"{bases[index]}^{y}: {actual} against {exact} ({error:F2} ulp, allowed {allowed:F1})");
        }
        for (int i = 0; i < bases.Count; i += 16)
        {
            float[] x = bases.GetRange(i, 16).ToArray();
            Vector512<float> p512 = VectorMath.PowPositive(Vector512.Create(x), Vector512.Create(y));
            Vector256<float> p256 = VectorMath.PowPositive(Vector256.Create(x.AsSpan(0, 8)), Vector256.Create(y));
            Vector128<float> p128 = VectorMath.PowPositive(Vector128.Create(x.AsSpan(8, 4)), Vector128.Create(y));
            for (int k = 0; k < 16; k++) Check(i + k, p512[k]);
            for (int k = 0; k < 8; k++) Check(i + k, p256[k]);
            for (int k = 0; k < 4; k++) Check(i + 8 + k, p128[k]);
        }
        Assert.True(worst > 0.01, "the comparison measured nothing");
    }

    [Fact]
    public void Vector_multiply_add_is_a_times_b_plus_c_at_every_width()
    {
        var random = new Random(5);
        float[] a = Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble() * 4 - 2).ToArray(), b = a.Reverse().ToArray(), c = a.Select(x => x / 3).ToArray();
        var r128 = Qtaml.Numerics.VectorMath.MultiplyAdd(System.Runtime.Intrinsics.Vector128.Create(a.AsSpan(0, 4)), System.Runtime.Intrinsics.Vector128.Create(b.AsSpan(0, 4)), System.Runtime.Intrinsics.Vector128.Create(c.AsSpan(0, 4)));
        var r256 = Qtaml.Numerics.VectorMath.MultiplyAdd(System.Runtime.Intrinsics.Vector256.Create(a.AsSpan(0, 8)), System.Runtime.Intrinsics.Vector256.Create(b.AsSpan(0, 8)), System.Runtime.Intrinsics.Vector256.Create(c.AsSpan(0, 8)));
        var r512 = Qtaml.Numerics.VectorMath.MultiplyAdd(System.Runtime.Intrinsics.Vector512.Create(a), System.Runtime.Intrinsics.Vector512.Create(b), System.Runtime.Intrinsics.Vector512.Create(c));
        for (int i = 0; i < 16; i++)
        {
            double exact = (double)a[i] * b[i] + c[i];
            // Fused: one rounding of the exact value; unfused: two, each half an ulp of what it rounds.
            float magnitude = Math.Abs(a[i] * b[i]) + Math.Abs(c[i]);
            double tolerance = 2 * (MathF.BitIncrement(magnitude) - magnitude);
            if (i < 4) Assert.True(Math.Abs(r128[i] - exact) <= tolerance);
            if (i < 8) Assert.True(Math.Abs(r256[i] - exact) <= tolerance);
            Assert.True(Math.Abs(r512[i] - exact) <= tolerance);
        }
    }
}
