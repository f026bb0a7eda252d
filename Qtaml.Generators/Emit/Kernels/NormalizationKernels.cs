using System.Linq;
using Qtaml.Generators.Lowering;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Emit.Kernels;

/// <summary>Row-wise normalizations: softmax and layer normalization over the last axis.</summary>
internal static class NormalizationKernels
{
    /// <summary>
    /// Softmax over the last axis, each row shifted by its maximum. Rows of a vector or more go a vector at a time
    /// with the vectorized exponential; a row that is not whole vectors ends with one vector overlapping the one
    /// before (it recomputes the same exponentials, so the values stored twice are equal) whose repeated lanes are
    /// masked out of the sum.
    /// </summary>
    public static void WriteSoftmax(SourceWriter w, Step step, SoftmaxLayer s)
    {
        if (s.Log)
        {
            WriteLogSoftmax(w, step, s);
            return;
        }
        int length = s.Length;
        w.Line("/// <summary>" + Escape.XmlDoc(s.Name) + ": softmax over the last axis (" + s.Rows + " rows of " + length + "), shifted by each row's maximum.</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> x, Span<float> y)"))
        {
            w.Line(KernelContext.LengthCheck(("x", s.InputLength), ("y", s.InputLength)));
            if (length < 4)
            {
                WriteScalarRows(w, s);
                return;
            }
            w.Line("ref float source = ref MemoryMarshal.GetReference(x);");
            w.Line("ref float target = ref MemoryMarshal.GetReference(y);");
            VectorWidth.Dispatch(w, v =>
            {
                if (length < v.Lanes)
                {
                    WriteScalarRows(w, s);
                    return;
                }
                int lanes = v.Lanes, whole = length / lanes * lanes, tail = length - whole;
                if (tail > 0)
                {
                    w.Line("// The last vector of a row starts " + (lanes - tail) + " values before the end of the whole vectors; only its last " + tail + " lanes are new.");
                    w.Line(v.Floats + " fresh = " + v.Type + ".AsSingle(" + v.Type + ".Create(" + string.Join(", ", Enumerable.Range(0, lanes).Select(j => j >= lanes - tail ? "-1" : "0")) + "));");
                }
                using (w.Block("for (int r = 0; r < " + s.Rows + "; r++)"))
                {
                    w.Line("nuint row = (nuint)(r * " + length + ");");
                    w.Line(v.Floats + " largest = " + v.Load("source", "row") + ";");
                    if (whole > lanes) w.Line("for (nuint k = " + lanes + "; k < " + whole + "; k += " + lanes + ") largest = " + v.Type + ".Max(largest, " + v.Load("source", "row + k") + ");");
                    if (tail > 0) w.Line("largest = " + v.Type + ".Max(largest, " + v.Load("source", "row + " + (length - lanes)) + ");");
                    w.Line("float max = " + v.Type + ".GetElement(largest, 0);");
                    w.Line("for (int lane = 1; lane < " + lanes + "; lane++) max = MathF.Max(max, " + v.Type + ".GetElement(largest, lane));");
                    w.Line(v.Floats + " shift = " + v.Splat("max") + ", sum = " + v.Zero + ";");
                    using (w.Block("for (nuint k = 0; k < " + whole + "; k += " + lanes + ")"))
                    {
                        w.Line(v.Floats + " e = VectorMath.Exp(" + v.Load("source", "row + k") + " - shift);");
                        w.Line(v.Store("e", "target", "row + k"));
                        w.Line("sum += e;");
                    }
                    if (tail > 0)
                    {
                        w.Line("{ " + v.Floats + " e = VectorMath.Exp(" + v.Load("source", "row + " + (length - lanes)) + " - shift);");
                        w.Line("  " + v.Store("e", "target", "row + " + (length - lanes)));
                        w.Line("  sum += e & fresh; }");
                    }
                    w.Line("float inverse = 1f / " + v.Type + ".Sum(sum);");
                    w.Line(v.Floats + " scale = " + v.Splat("inverse") + ";");
                    w.Line("for (nuint k = 0; k < " + whole + "; k += " + lanes + ") " + v.Store(v.Load("target", "row + k") + " * scale", "target", "row + k"));
                    if (tail > 0) w.Line("for (nuint k = " + whole + "; k < " + length + "; k++) Unsafe.Add(ref target, row + k) *= inverse;");
                }
            });
        }
        w.Line();
    }

    /// <summary>
    /// LogSoftmax over the last axis: x − max − ln Σ e^(x − max), which keeps full precision for very negative
    /// log-probabilities where the log of a computed softmax would be ln 0. A row at a time, in scalar code: it is
    /// a classifier's last layer, a few values per call.
    /// </summary>
    private static void WriteLogSoftmax(SourceWriter w, Step step, SoftmaxLayer s)
    {
        int length = s.Length;
        w.Line("/// <summary>" + Escape.XmlDoc(s.Name) + ": log-softmax over the last axis (" + s.Rows + " rows of " + length + ").</summary>");
        using (w.Kernel("private static void " + step.Method + "(ReadOnlySpan<float> x, Span<float> y)"))
        {
            w.Line(KernelContext.LengthCheck(("x", s.InputLength), ("y", s.InputLength)));
            WriteRows(w, s, () =>
            {
                w.Line("for (int i = 0; i < " + length + "; i++) sum += MathF.Exp(row[i] - max);");
                w.Line("float shift = max + MathF.Log(sum);");
                w.Line("for (int i = 0; i < " + length + "; i++) result[i] = row[i] - shift;");
            });
        }
        w.Line();
    }

    private static void WriteScalarRows(SourceWriter w, SoftmaxLayer s)
    {
        int length = s.Length;
        WriteRows(w, s, () =>
        {
            w.Line("for (int i = 0; i < " + length + "; i++) { float e = MathF.Exp(row[i] - max); result[i] = e; sum += e; }");
            w.Line("float inverse = 1f / sum;");
            w.Line("for (int i = 0; i < " + length + "; i++) result[i] *= inverse;");
        });
    }

    /// <summary>The loop over rows, one at a time in scalar code: each row's slices, its maximum and a zero sum, then <paramref name="rest"/>.</summary>
    private static void WriteRows(SourceWriter w, SoftmaxLayer s, System.Action rest)
    {
        int length = s.Length;
        using (w.Block("for (int r = 0; r < " + s.Rows + "; r++)"))
        {
            w.Line("ReadOnlySpan<float> row = x.Slice(r * " + length + ", " + length + ");");
            w.Line("Span<float> result = y.Slice(r * " + length + ", " + length + ");");
            w.Line("float max = float.NegativeInfinity;");
            w.Line("for (int i = 0; i < " + length + "; i++) max = MathF.Max(max, row[i]);");
            w.Line("float sum = 0f;");
            rest();
        }
    }

    /// <summary>
    /// Layer normalization, two passes (the mean, then the squared deviations) as ONNX Runtime computes it rather
    /// than E[x²] − mean². Rows of whole vectors go a vector at a time.
    /// </summary>
    public static void WriteLayerNorm(SourceWriter w, KernelContext k, Step step, LayerNormLayer n)
    {
        string method = step.Method;
        w.Line("/// <summary>" + Escape.XmlDoc(n.Name) + ": layer normalization of " + n.Rows + " rows of " + n.Length + ", epsilon " + Literals.Float(n.Epsilon) + ".</summary>");
        using (w.Kernel("private static void " + method + "(ReadOnlySpan<float> x, Span<float> y)"))
        {
            w.Line(KernelContext.LengthCheck(("x", n.InputLength), ("y", n.InputLength)));
            if (n.Length % 4 == 0)
            {
                w.Line("ref float source = ref MemoryMarshal.GetReference(x);");
                w.Line("ref float target = ref MemoryMarshal.GetReference(y);");
                w.Line("ref float gamma = ref MemoryMarshal.GetReference(" + method + "_Gamma);");
                w.Line("ref float beta = ref MemoryMarshal.GetReference(" + method + "_Beta);");
                VectorWidth.Dispatch(w, v =>
                {
                    if (n.Length % v.Lanes != 0)
                    {
                        WriteScalarLayerNorm(w, n, method);
                        return;
                    }
                    using (w.Block("for (int r = 0; r < " + n.Rows + "; r++)"))
                    {
                        string each = "for (nuint i = 0; i < " + n.Length + "; i += " + v.Lanes + ") ";
                        w.Line("nuint row = (nuint)(r * " + n.Length + ");");
                        w.Line(v.Floats + " total = " + v.Zero + ";");
                        w.Line(each + "total += " + v.Load("source", "row + i") + ";");
                        w.Line(v.Floats + " mean = " + v.Splat(v.Type + ".Sum(total) * " + Literals.Float(1f / n.Length)) + ";");
                        w.Line(v.Floats + " squares = " + v.Zero + ";");
                        w.Line(each + "{ " + v.Floats + " d = " + v.Load("source", "row + i") + " - mean; squares = " + VectorWidth.MultiplyAdd("d", "d", "squares") + "; }");
                        w.Line(v.Floats + " inverse = " + v.Splat("1f / MathF.Sqrt(" + v.Type + ".Sum(squares) * " + Literals.Float(1f / n.Length) + " + " + Literals.Float(n.Epsilon) + ")") + ";");
                        w.Line(each + v.Store(VectorWidth.MultiplyAdd("(" + v.Load("source", "row + i") + " - mean) * inverse", v.Load("gamma", "i"), v.Load("beta", "i")), "target", "row + i"));
                    }
                }, wide: n.Length % VectorWidth.V512.Lanes == 0);
            }
            else
            {
                WriteScalarLayerNorm(w, n, method);
            }
        }
        w.Line("private static ReadOnlySpan<float> " + method + "_Gamma => " + k.Data.FloatSpan(n.Gamma) + ";");
        w.Line("private static ReadOnlySpan<float> " + method + "_Beta => " + k.Data.FloatSpan(n.Beta) + ";");
        w.Line();
    }

    private static void WriteScalarLayerNorm(SourceWriter w, LayerNormLayer n, string method)
    {
        w.Line("ReadOnlySpan<float> gammas = " + method + "_Gamma;");
        w.Line("ReadOnlySpan<float> betas = " + method + "_Beta;");
        using (w.Block("for (int r = 0; r < " + n.Rows + "; r++)"))
        {
            w.Line("ReadOnlySpan<float> row = x.Slice(r * " + n.Length + ", " + n.Length + ");");
            w.Line("Span<float> result = y.Slice(r * " + n.Length + ", " + n.Length + ");");
            w.Line("float mean = 0f;");
            w.Line("for (int i = 0; i < " + n.Length + "; i++) mean += row[i];");
            w.Line("mean *= " + Literals.Float(1f / n.Length) + ";");
            w.Line("float variance = 0f;");
            w.Line("for (int i = 0; i < " + n.Length + "; i++) { float d = row[i] - mean; variance += d * d; }");
            w.Line("float inverse = 1f / MathF.Sqrt(variance * " + Literals.Float(1f / n.Length) + " + " + Literals.Float(n.Epsilon) + ");");
            w.Line("for (int i = 0; i < " + n.Length + "; i++) result[i] = (row[i] - mean) * inverse * gammas[i] + betas[i];");
        }
    }
}
