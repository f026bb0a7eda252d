using System;

namespace Qtaml.Moments;

/// <summary>How a signed code is laid out in the b bits a weight is stored in (DESIGN 3.4).</summary>
public enum CodeEncoding
{
    /// <summary>
    /// Two's complement: bit k weighs 2^k, the top bit −2^{b−1}. A small negative code is mostly 1s, charged
    /// bits that one-way leaks discharge, so its drift is large and cannot be undone by choosing another code.
    /// </summary>
    TwosComplement = 0,

    /// <summary>
    /// Sign-magnitude: the top bit is the sign (1 = negative), the others the magnitude, bit k weighing 2^k. One-way
    /// leaks only shrink magnitudes; with the sign plane protected the drift is a pure scale. The codes are
    /// ±(2^{b−1} − 1), exactly the range of symmetric quantization.
    /// </summary>
    SignMagnitude = 1,
}

/// <summary>Codes and their b-bit patterns in either encoding.</summary>
public static class CodeEncodings
{
    /// <summary>The smallest code: −2^{b−1} in two's complement, −(2^{b−1} − 1) in sign-magnitude.</summary>
    public static int MinCode(int bits, CodeEncoding encoding) => encoding == CodeEncoding.SignMagnitude ? -StoredCode.MaxCode(bits) : StoredCode.MinCode(bits);

    /// <summary>The largest code, 2^{b−1} − 1, in both.</summary>
    public static int MaxCode(int bits) => StoredCode.MaxCode(bits);

    /// <summary>The b-bit pattern that stores <paramref name="code"/>.</summary>
    public static int ToPattern(int code, int bits, CodeEncoding encoding)
    {
        StoredCode.ValidateBits(bits);
        if (code < MinCode(bits, encoding) || code > MaxCode(bits))
            throw new ArgumentOutOfRangeException(nameof(code), code, $"A {bits}-bit {encoding} code must be between {MinCode(bits, encoding)} and {MaxCode(bits)}.");
        return encoding == CodeEncoding.SignMagnitude
            ? (code < 0 ? 1 << (bits - 1) | -code : code)
            : StoredCode.ToPattern(code, bits);
    }

    /// <summary>The code a b-bit pattern stands for (a sign-magnitude "negative zero" is 0).</summary>
    public static int FromPattern(int pattern, int bits, CodeEncoding encoding)
    {
        if (encoding == CodeEncoding.TwosComplement) return StoredCode.FromPattern(pattern, bits);
        int magnitude = pattern & ((1 << (bits - 1)) - 1);
        return (pattern >> (bits - 1) & 1) != 0 ? -magnitude : magnitude;
    }
}
