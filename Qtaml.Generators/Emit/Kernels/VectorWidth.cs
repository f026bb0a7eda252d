using System;
using System.Linq;

namespace Qtaml.Generators.Emit.Kernels;

/// <summary>
/// One vector width a kernel body is written for. Kernels are printed once per width and chosen by
/// <c>Vector512.IsHardwareAccelerated</c> and <c>Vector256.IsHardwareAccelerated</c>, constants to the JIT and to
/// NativeAOT, so each build runs one body with no branch: Vector512 on AVX-512 machines (where the shape fills
/// whole 16-float vectors), Vector256 on AVX2 machines, Vector128 on ARM64 (NEON), x86-64-v2 and x64 without
/// AVX2. Channel layouts pad to 8 floats: half a Vector512, one Vector256, two Vector128.
/// </summary>
internal sealed class VectorWidth
{
    public static readonly VectorWidth V128 = new(4);
    public static readonly VectorWidth V256 = new(8);
    public static readonly VectorWidth V512 = new(16);

    private VectorWidth(int lanes) => Lanes = lanes;

    /// <summary>Floats per vector.</summary>
    public int Lanes { get; }

    /// <summary>Vector registers a blocked kernel may fill: 32 with AVX-512 (zmm0-31), 16 on x64 otherwise (ARM64 has 32, but one body serves both).</summary>
    public int Registers => Lanes == 16 ? 32 : 16;

    /// <summary>The static class: Vector128, Vector256 or Vector512.</summary>
    public string Type => "Vector" + (Lanes * 32);

    /// <summary>The vector-of-floats type.</summary>
    public string Floats => Type + "<float>";

    public string Zero => Floats + ".Zero";

    public string Load(string reference, string offset) => Type + ".LoadUnsafe(ref " + reference + ", " + offset + ")";

    public string Store(string value, string reference, string offset) => Type + ".StoreUnsafe(" + value + ", ref " + reference + ", " + offset + ");";

    public string Splat(string value) => Type + ".Create(" + value + ")";

    /// <summary>a·b + c: one instruction where the hardware fuses, a multiply and an add where it does not; never a call.</summary>
    public static string MultiplyAdd(string a, string b, string c) => "VectorMath.MultiplyAdd(" + a + ", " + b + ", " + c + ")";

    /// <summary>
    /// Writes <paramref name="body"/> for Vector512 where it is accelerated and <paramref name="wide"/> (the shape
    /// fills whole 16-float vectors), else for Vector256 where it is accelerated, else for Vector128.
    /// </summary>
    public static void Dispatch(SourceWriter w, Action<VectorWidth> body, bool wide = false)
    {
        if (wide)
        {
            using (w.Block("if (Vector512.IsHardwareAccelerated)")) body(V512);
            using (w.Block("else if (Vector256.IsHardwareAccelerated)")) body(V256);
        }
        else
        {
            using (w.Block("if (Vector256.IsHardwareAccelerated)")) body(V256);
        }
        using (w.Block("else")) body(V128);
    }

    /// <summary>
    /// Like <see cref="Dispatch"/>, but each width's body is a method of its own (<paramref name="method"/>_V512,
    /// _V256, _V128) taking <paramref name="parameters"/>: the JIT compiles only the one a machine runs, and an
    /// unrolled kernel stays within the size the JIT fully optimizes (past about 20,000 IL instructions a method
    /// is compiled without optimization). <paramref name="shapeParameters"/>: the body takes its shape constants as
    /// parameters too (<see cref="ShapeArguments"/>), so layers of one structure and any sizes share its method.
    /// </summary>
    public static void DispatchToMethods(SourceWriter w, KernelContext k, string method, string summary, (string Type, string Name)[] parameters, Action<SourceWriter, VectorWidth, ShapeArguments> body, bool wide = false, bool shapeParameters = false, string shapeType = "nuint")
    {
        string arguments = string.Join(", ", parameters.Select(p => (p.Type.StartsWith("ref ", StringComparison.Ordinal) ? "ref " : "") + p.Name));
        string signature = string.Join(", ", parameters.Select(p => p.Type + " " + p.Name));
        var widths = wide ? new[] { V512, V256, V128 } : new[] { V256, V128 };
        // Each width's body is rendered first: a layer whose body was met before calls that layer's method (its data and
        // sizes come in through the parameters), so the code grows with the distinct structures, not the layers.
        var names = new string[widths.Length];
        var calls = new string[widths.Length];
        for (int i = 0; i < widths.Length; i++)
        {
            VectorWidth v = widths[i];
            var scratch = new SourceWriter(w.Indent);
            var shape = new ShapeArguments(shapeParameters, shapeType);
            body(scratch, v, shape);
            string text = scratch.ToString();
            string declared = signature + shape.Declarations();
            names[i] = k.Kernels.Share(declared + "\n" + text, method + "_V" + v.Lanes * 32, out bool first);
            calls[i] = names[i] + "(" + arguments + shape.Values() + ");";
            if (!first) continue;
            string name = names[i];
            w.Defer(member =>
            {
                member.Line("/// <summary>" + summary + " with " + v.Type + (shapeParameters ? "; the layer's sizes are its last parameters" : "") + ".</summary>");
                member.Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
                member.Open("private static void " + name + "(" + declared + ")");
                member.Raw(text);
                member.Close();
                member.Line();
            });
        }
        if (names[0] != method + "_V" + widths[0].Lanes * 32) w.Line("// the multiply-adds of " + names[0].Substring(0, names[0].LastIndexOf('_')) + ", a layer of the same " + (shapeParameters ? "structure" : "shape"));
        for (int i = 0; i < widths.Length; i++)
        {
            if (i == widths.Length - 1) w.Line(i == 0 ? calls[i] : "else " + calls[i]);
            else w.Line((i == 0 ? "if" : "else if") + " (" + widths[i].Type + ".IsHardwareAccelerated) " + calls[i]);
        }
    }
}
