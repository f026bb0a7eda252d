using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>Dense layers: Gemm and MatMul, whose constant matrices are the weights Qtaml quantizes and protects.</summary>
internal static partial class OnnxReader
{
    /// <summary>
    /// Gemm, alpha·A'·B' + beta·C. With a constant B it is a dense layer (weights quantized and protected), A
    /// transposed first if transA; with a computed B, a product of two values, scaled, plus C (constant or computed).
    /// </summary>
    internal static int ReadGemm(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        NetworkBuilder network = r.Network;
        int left = r.Data(node, name);
        if (network.ShapeOf(left).Length != 2) throw network.Mismatch(name, "Gemm needs a matrix A but gets " + Shape.Format(network.ShapeOf(left)) + "; add a Flatten");
        if (a.Int("transA", 0) != 0) left = network.Transpose(name + " (A transposed)", SwapAxes);
        if (!r.IsValue(node.Input[1]))
        {
            network.Current = left;
            ReadGemm(r.Context, node, name, network, a);
            return network.Current;
        }
        int right = r.Data(node, name, 1);
        if (network.ShapeOf(right).Length != 2) throw network.Mismatch(name, "Gemm needs a matrix B but gets " + Shape.Format(network.ShapeOf(right)));
        if (a.Int("transB", 0) != 0) right = network.Transpose(name + " (B transposed)", SwapAxes);
        float alpha = a.Float("alpha", 1f), beta = a.Float("beta", 1f);
        int result = network.MatMul(name, left, right);
        if (alpha != 1f) result = network.Binary(name + " (times alpha)", BinaryKind.Mul, network.ValueOperand(result), Operand.OfConstant(new[] { alpha }, Scalar));
        if (node.Input.Count < 3 || node.Input[2].Length == 0 || beta == 0f) return result;
        Operand c = r.Operand(node, name, 2);
        if (c.IsConstant) c = Operand.OfConstant(c.Constant!.Select(v => beta * v).ToArray(), c.Shape);
        else if (beta != 1f) c = network.ValueOperand(network.Binary(name + " (C times beta)", BinaryKind.Mul, c, Operand.OfConstant(new[] { beta }, Scalar)));
        return network.Binary(name + " (plus C)", BinaryKind.Add, network.ValueOperand(result), c);
    }

    /// <summary>The permutation that transposes a matrix.</summary>
    private static readonly int[] SwapAxes = { 1, 0 };

    private static void ReadGemm(Context context, NodeProto node, string name, NetworkBuilder network, NodeAttributes a)
    {
        float alpha = a.Float("alpha", 1f), beta = a.Float("beta", 1f);
        bool transB = a.Int("transB", 0) != 0;
        (int[] dims, float[] w) = context.Tensor(node.Input[1], name);
        if (dims.Length != 2) throw network.Mismatch(name, "the Gemm weight has shape " + Shape.Format(dims) + "; a matrix is needed");
        int inputs = transB ? dims[1] : dims[0], outputs = transB ? dims[0] : dims[1];
        float[] weights = transB ? w : Transpose(w, dims[0], dims[1]);
        for (int i = 0; i < weights.Length; i++) weights[i] *= alpha;
        float[]? bias = null;
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            (int[] bDims, float[] b) = context.Tensor(node.Input[2], name);
            // C must broadcast to [1, N] in one direction: [], [1], [N], [1, 1] or [1, N].
            bool fits = bDims.Length <= 2 && (bDims.Length < 2 || bDims[0] == 1) && (bDims.Length == 0 || bDims[bDims.Length - 1] == 1 || bDims[bDims.Length - 1] == outputs);
            if (!fits) throw network.Mismatch(name, "the Gemm bias has shape " + Shape.Format(bDims) + ", which does not broadcast to the [1, " + outputs + "] output");
            bias = b.Length == outputs ? b.Select(v => beta * v).ToArray() : Enumerable.Repeat(beta * b[0], outputs).ToArray();
        }
        network.Dense(name, "Gemm", weights, outputs, inputs, bias);
    }

    /// <summary>MatMul: with a constant right-hand matrix a dense layer on the last axis (quantized); of two values, a batched product.</summary>
    internal static int ReadMatMul(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        if (r.IsValue(node.Input[1])) return r.Network.MatMul(name, r.Data(node, name), r.Data(node, name, 1));
        r.Data(node, name);
        ReadMatMulWeights(r.Context, node, name, r.Network);
        return r.Network.Current;
    }

    private static void ReadMatMulWeights(Context context, NodeProto node, string name, NetworkBuilder network)
    {
        (int[] dims, float[] w) = context.Tensor(node.Input[1], name);
        if (dims.Length != 2) throw network.Mismatch(name, "the MatMul weight has shape " + Shape.Format(dims) + "; a matrix is needed");
        network.Dense(name, "MatMul", Transpose(w, dims[0], dims[1]), dims[1], dims[0], null);
    }

    private static float[] Transpose(float[] w, int rows, int columns)
    {
        var t = new float[w.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                t[c * rows + r] = w[r * columns + c];
        return t;
    }
}
