using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Qtaml.Numerics;

/// <summary>
/// Vector arithmetic that generated kernels call in their inner loops, the same on .NET 8 and 10 and on every CPU.
/// A fused multiply-add is one instruction where the hardware has one (FMA3 on x64, NEON on ARM64) and a plain
/// multiply and add where it has not: never the software routine that <c>Vector256.FusedMultiplyAdd</c> falls back
/// to without FMA (one call per element, 135x slower in a NativeAOT build for x86-64-v2). The <c>IsSupported</c>
/// checks are constants to the JIT and to NativeAOT, so each call compiles to the one branch that applies.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class VectorMath
{
    /// <summary>a·b + c, fused where the hardware fuses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c)
    {
        if (Fma.IsSupported) return Fma.MultiplyAdd(a, b, c);
        if (AdvSimd.IsSupported) return AdvSimd.FusedMultiplyAdd(c, a, b);
        return a * b + c;
    }

    /// <summary>a·b + c, fused where the hardware fuses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c)
    {
        if (Fma.IsSupported) return Fma.MultiplyAdd(a, b, c);
        return a * b + c;
    }

    /// <summary>a·b + c, fused where the hardware fuses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c)
    {
        if (Avx512F.IsSupported) return Avx512F.FusedMultiplyAdd(a, b, c);
        return a * b + c;
    }

    /// <summary>e^x of 4 values: the runtime's vectorized exponential where it has one (.NET 9 and later), else <see cref="ExpPolynomial(Vector128{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
#if NET9_0_OR_GREATER
        return Vector128.Exp(x);
#else
        return ExpPolynomial(x);
#endif
    }

    /// <summary>e^x of 8 values: the runtime's vectorized exponential where it has one (.NET 9 and later), else <see cref="ExpPolynomial(Vector256{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
#if NET9_0_OR_GREATER
        return Vector256.Exp(x);
#else
        return ExpPolynomial(x);
#endif
    }

    /// <summary>
    /// e^x of 8 values in float, within 2 ulp over the range where the result is a normal float: x = n·ln2 + r
    /// with n = round(x/ln2) and |r| ≤ ln2/2 (ln2 split in two so r is exact), e^r by its degree-7 Taylor
    /// polynomial (truncation below 6·10⁻⁹ relative on that interval), times 2^n built in the exponent bits. x is clamped to
    /// [−87.3, 88.37], where e^x is a normal float and 2^n fits the exponent (n ≤ 127): below it the result is about
    /// 1.2·10⁻³⁸ instead of a subnormal or 0 (no softmax or GELU term can tell), above it about 2.4·10³⁸ instead of
    /// infinity (a softmax subtracts its maximum first, so its arguments are at most 0).
    /// </summary>
    public static Vector256<float> ExpPolynomial(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(-87.3f)), Vector256.Create(88.37f));
        Vector256<float> n = Vector256.Floor(MultiplyAdd(x, Vector256.Create(1.44269504088896341f), Vector256.Create(0.5f)));
        Vector256<float> r = MultiplyAdd(n, Vector256.Create(-0.693359375f), x);          // ln2, high part (exact product)
        r = MultiplyAdd(n, Vector256.Create(2.12194440e-4f), r);                          // ln2, low part
        Vector256<float> p = Vector256.Create(1f / 5040f);
        p = MultiplyAdd(p, r, Vector256.Create(1f / 720f));
        p = MultiplyAdd(p, r, Vector256.Create(1f / 120f));
        p = MultiplyAdd(p, r, Vector256.Create(1f / 24f));
        p = MultiplyAdd(p, r, Vector256.Create(1f / 6f));
        p = MultiplyAdd(p, r, Vector256.Create(0.5f));
        p = MultiplyAdd(p, r, Vector256<float>.One);
        p = MultiplyAdd(p, r, Vector256<float>.One);
        Vector256<int> scale = Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23);
        return p * scale.AsSingle();
    }

    /// <summary>e^x of 4 values, computed as <see cref="ExpPolynomial(Vector256{float})"/> computes 8 (same reduction, polynomial and clamp).</summary>
    public static Vector128<float> ExpPolynomial(Vector128<float> x)
    {
        x = Vector128.Min(Vector128.Max(x, Vector128.Create(-87.3f)), Vector128.Create(88.37f));
        Vector128<float> n = Vector128.Floor(MultiplyAdd(x, Vector128.Create(1.44269504088896341f), Vector128.Create(0.5f)));
        Vector128<float> r = MultiplyAdd(n, Vector128.Create(-0.693359375f), x);
        r = MultiplyAdd(n, Vector128.Create(2.12194440e-4f), r);
        Vector128<float> p = Vector128.Create(1f / 5040f);
        p = MultiplyAdd(p, r, Vector128.Create(1f / 720f));
        p = MultiplyAdd(p, r, Vector128.Create(1f / 120f));
        p = MultiplyAdd(p, r, Vector128.Create(1f / 24f));
        p = MultiplyAdd(p, r, Vector128.Create(1f / 6f));
        p = MultiplyAdd(p, r, Vector128.Create(0.5f));
        p = MultiplyAdd(p, r, Vector128<float>.One);
        p = MultiplyAdd(p, r, Vector128<float>.One);
        return p * Vector128.ShiftLeft(Vector128.ConvertToInt32(n) + Vector128.Create(127), 23).AsSingle();
    }
    /// <summary>
    /// x^y of 4 values whose bases are positive and finite (the caller checks): e^(y·ln x) with the runtime's vectorized
    /// logarithm and exponential on .NET 9 and later, within 3 + 2·|y·ln x| ulp (the logarithm's rounding is scaled by
    /// |y·ln x| before the exponential: a few ulp for an LRN's divisor), else MathF.Pow lane by lane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> PowPositive(Vector128<float> x, Vector128<float> y)
    {
#if NET9_0_OR_GREATER
        return Vector128.Exp(y * Vector128.Log(x));
#else
        return Vector128.Create(MathF.Pow(x.GetElement(0), y.GetElement(0)), MathF.Pow(x.GetElement(1), y.GetElement(1)), MathF.Pow(x.GetElement(2), y.GetElement(2)), MathF.Pow(x.GetElement(3), y.GetElement(3)));
#endif
    }

    /// <summary>x^y of 8 positive, finite bases, as <see cref="PowPositive(Vector128{float}, Vector128{float})"/> computes 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> PowPositive(Vector256<float> x, Vector256<float> y)
    {
#if NET9_0_OR_GREATER
        return Vector256.Exp(y * Vector256.Log(x));
#else
        return Vector256.Create(PowPositive(x.GetLower(), y.GetLower()), PowPositive(x.GetUpper(), y.GetUpper()));
#endif
    }

    /// <summary>x^y of 16 positive, finite bases, as <see cref="PowPositive(Vector128{float}, Vector128{float})"/> computes 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> PowPositive(Vector512<float> x, Vector512<float> y)
    {
#if NET9_0_OR_GREATER
        return Vector512.Exp(y * Vector512.Log(x));
#else
        return Vector512.Create(PowPositive(x.GetLower(), y.GetLower()), PowPositive(x.GetUpper(), y.GetUpper()));
#endif
    }
}
