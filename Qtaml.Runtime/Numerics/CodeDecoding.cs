using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qtaml.Numerics;

/// <summary>
/// Sign-magnitude codes as generated kernels read them: the code's pattern is first read as if it were two's
/// complement (a sign extension, which is free), giving t; a pattern with its top bit set (a negative code of
/// magnitude m) reads t = m − 2^{b−1}, so the value is −2^{b−1} − t, and a non-negative t is the value itself.
/// One compare and one select per vector.
/// </summary>
public static class CodeDecoding
{
    /// <summary>The sign-magnitude value of a b-bit pattern read as two's complement (<paramref name="top"/> = 2^{b−1}).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SignMagnitude(int twos, int top) => twos < 0 ? -top - twos : twos;

    /// <summary>
    /// Sixteen 8-bit sign-magnitude codes, decoded before they are widened: a negative byte t stands for −128 − t,
    /// which fits a byte. One compare and select per sixteen codes, not per four.
    /// </summary>
    /// <remarks>On x86 (SSSE3, every x86-64-v2 part) two instructions: the magnitude bits, negated where the byte is negative (psignb).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<sbyte> SignMagnitude(Vector128<sbyte> twos) =>
        Ssse3.IsSupported
            ? Ssse3.Sign(twos & Vector128.Create((sbyte)0x7F), twos)
            : Vector128.ConditionalSelect(Vector128.LessThan(twos, Vector128<sbyte>.Zero), Vector128.Create((sbyte)-128) - twos, twos);

    /// <inheritdoc cref="SignMagnitude(int, int)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> SignMagnitude(Vector128<int> twos, int top) =>
        Vector128.ConditionalSelect(Vector128.LessThan(twos, Vector128<int>.Zero), Vector128.Create(-top) - twos, twos);

    /// <inheritdoc cref="SignMagnitude(int, int)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> SignMagnitude(Vector256<int> twos, int top) =>
        Vector256.ConditionalSelect(Vector256.LessThan(twos, Vector256<int>.Zero), Vector256.Create(-top) - twos, twos);

    /// <inheritdoc cref="SignMagnitude(int, int)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> SignMagnitude(Vector512<int> twos, int top) =>
        Vector512.ConditionalSelect(Vector512.LessThan(twos, Vector512<int>.Zero), Vector512.Create(-top) - twos, twos);
}
