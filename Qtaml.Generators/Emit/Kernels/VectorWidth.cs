using System;

namespace Qtaml.Generators.Emit.Kernels;

/// <summary>
/// One vector width a kernel body is written for. Kernels are printed once per width and chosen by
/// <c>Vector256.IsHardwareAccelerated</c>, a constant to the JIT and to NativeAOT, so each build runs one body
/// with no branch: Vector256 on AVX2 machines, Vector128 on ARM64 (NEON), x86-64-v2 and x64 without AVX2.
/// Channel layouts pad to 8 floats, one Vector256 or two Vector128.
/// </summary>
internal sealed class VectorWidth
{
    public static readonly VectorWidth V128 = new(4);
    public static readonly VectorWidth V256 = new(8);

    private VectorWidth(int lanes) => Lanes = lanes;

    /// <summary>Floats per vector.</summary>
    public int Lanes { get; }

    /// <summary>The static class: Vector128 or Vector256.</summary>
    public string Type => "Vector" + (Lanes * 32);

    /// <summary>The vector-of-floats type.</summary>
    public string Floats => Type + "<float>";

    public string Zero => Floats + ".Zero";

    public string Load(string reference, string offset) => Type + ".LoadUnsafe(ref " + reference + ", " + offset + ")";

    public string Store(string value, string reference, string offset) => Type + ".StoreUnsafe(" + value + ", ref " + reference + ", " + offset + ");";

    public string Splat(string value) => Type + ".Create(" + value + ")";

    /// <summary>a·b + c: one instruction where the hardware fuses, a multiply and an add where it does not; never a call.</summary>
    public static string MultiplyAdd(string a, string b, string c) => "VectorMath.MultiplyAdd(" + a + ", " + b + ", " + c + ")";

    /// <summary>Writes <paramref name="body"/> for Vector256 where it is accelerated and for Vector128 otherwise.</summary>
    public static void Dispatch(SourceWriter w, Action<VectorWidth> body)
    {
        using (w.Block("if (Vector256.IsHardwareAccelerated)")) body(V256);
        using (w.Block("else")) body(V128);
    }
}
