using System;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// LSTM and GRU as one step per call, a streaming cell: one time step of one sample, the state passed in (graph
/// inputs, or absent for zeros) and out (the node's Y_h and Y_c). The cell is written out in layers Qtaml already
/// has: the input and recurrent weights as dense layers, quantized and protected like any other, the gates as
/// slices, sigmoid and tanh, and the state update as element-wise products and sums. Forward or reverse direction
/// (the same for one step), ONNX's default activations, no clipping, no peepholes; anything else is a diagnostic.
/// </summary>
internal static partial class OnnxReader
{
    private static readonly float[] MinusOne = { -1f };

    private static int ReadRecurrent(Reading r, NodeProto node, string name, NodeAttributes a, bool lstm)
    {
        NetworkBuilder network = r.Network;
        string op = node.OpType;
        string direction = a.String("direction", "forward");
        if (direction == "bidirectional") throw network.Mismatch(name, op + " with direction = bidirectional is not supported; Qtaml runs one direction, one step per call");
        if (direction is not ("forward" or "reverse")) throw Malformed(r, name, op, "has direction '" + direction + "'; ONNX defines forward, reverse and bidirectional");
        if (a.Has("clip")) throw network.Mismatch(name, op + " with clip is not supported");
        if (a.Int("input_forget", 0) != 0) throw network.Mismatch(name, "LSTM with input_forget = 1 is not supported");
        if (a.Int("layout", 0) != 0) throw network.Mismatch(name, op + " with layout = 1 (batch first) is not supported; export with layout 0");
        string[] defaults = lstm ? new[] { "Sigmoid", "Tanh", "Tanh" } : new[] { "Sigmoid", "Tanh" };
        string[] activations = a.Strings("activations");
        if (activations.Length > 0 && !activations.Select(s => s.ToLowerInvariant()).SequenceEqual(defaults.Select(s => s.ToLowerInvariant())))
            throw network.Mismatch(name, op + " with activations [" + string.Join(", ", activations) + "] is not supported; Qtaml computes the default " + string.Join(", ", defaults));
        if (lstm && node.Input.Count > 7 && node.Input[7].Length > 0) throw network.Mismatch(name, "LSTM with peepholes (input P) is not supported");

        int x = r.Data(node, name);
        long[] xShape = r.OnnxShape(node.Input[0])!;
        if (xShape.Length != 3 || xShape[0] != 1 || xShape[1] != 1)
            throw network.Mismatch(name, op + "'s input has shape [" + string.Join(", ", xShape) + "]; Qtaml runs one step of one sample per call, [1, 1, inputs] (pass the state in and out to run a sequence)");
        int inputs = (int)xShape[2], gates = lstm ? 4 : 3;
        (int[] wDims, float[] w) = r.Context.Tensor(node.Input[1], name);
        (int[] rDims, float[] recurrent) = r.Context.Tensor(node.Input[2], name);
        long hidden = a.Int("hidden_size", rDims.Length == 3 ? rDims[2] : 0);
        if (hidden < 1 || hidden > 1 << 16 || wDims.Length != 3 || !wDims.SequenceEqual(new[] { 1, gates * (int)hidden, inputs }) || rDims.Length != 3 || !rDims.SequenceEqual(new[] { 1, gates * (int)hidden, (int)hidden }))
            throw network.Mismatch(name, op + " weights W " + Shape.Format(wDims) + " and R " + Shape.Format(rDims) + " do not fit " + inputs + " inputs and hidden_size " + hidden + " with " + gates + " gates");
        int h = (int)hidden;
        float[] bias = node.Input.Count > 3 && node.Input[3].Length > 0 ? r.Context.Vector(node.Input[3], name, 2 * gates * h) : new float[2 * gates * h];
        if (node.Input.Count > 4 && node.Input[4].Length > 0 && (r.IsValue(node.Input[4]) || r.Context.Indices(node.Input[4], name).Values.Any(v => v != 1)))
            throw network.Mismatch(name, op + "'s sequence_lens must be the constant 1: Qtaml runs one step per call");
        int? State(int index, string what)
        {
            if (node.Input.Count <= index || node.Input[index].Length == 0) return null;
            if (!r.IsValue(node.Input[index]))
            {
                if (r.Context.Tensor(node.Input[index], name).Values.Any(v => v != 0)) throw network.Mismatch(name, op + "'s " + what + " is a nonzero constant; pass the state as a graph input");
                return null;
            }
            int value = r.Data(node, name, index);
            if (Shape.Length(network.ShapeOf(value)) != h) throw network.Mismatch(name, op + "'s " + what + " has " + Shape.Length(network.ShapeOf(value)) + " values; hidden_size is " + h);
            network.Reshape(name + " (" + what + " as a vector)", new[] { h });
            return network.Current;
        }
        int? h0 = State(5, "initial_h"), c0 = lstm ? State(6, "initial_c") : null;

        network.Current = x;
        network.Reshape(name + " (input as a vector)", new[] { inputs });
        int flat = network.Current;
        Operand Value(int v) => network.ValueOperand(v);
        int Slice(int v, int gate, int count = 1)
        {
            network.Current = v;
            return network.AxisMap(name + " (gate " + gate + ")", op, new[] { Enumerable.Range(gate * h, count * h).ToArray() });
        }
        int Apply(int v, UnaryKind kind)
        {
            network.Current = v;
            return network.Unary(name + " (" + kind.ToString().ToLowerInvariant() + ")", kind);
        }
        float[] Rows(float[] weights, int first, int count) => weights.Skip(first * h * (weights == w ? inputs : h)).Take(count * h * (weights == w ? inputs : h)).ToArray();
        float[] Bias(int offset, int first, int count) => bias.Skip(offset + first * h).Take(count * h).ToArray();

        int hNext, cNext = -1;
        if (lstm)
        {
            // Gates in ONNX order i, o, f, c: W·x + R·h + Wb + Rb.
            float[] both = Bias(0, 0, 4).Zip(Bias(4 * h, 0, 4), (p, q) => p + q).ToArray();
            network.Current = flat;
            network.Dense(name + " (W)", "LSTM", w, 4 * h, inputs, both);
            int preactivation = network.Current;
            if (h0 is int state)
            {
                network.Current = state;
                network.Dense(name + " (R)", "LSTM", recurrent, 4 * h, h, null);
                preactivation = network.Binary(name + " (W·x + R·h)", BinaryKind.Add, Value(preactivation), Value(network.Current));
            }
            int input = Apply(Slice(preactivation, 0), UnaryKind.Sigmoid), output = Apply(Slice(preactivation, 1), UnaryKind.Sigmoid);
            int forget = Apply(Slice(preactivation, 2), UnaryKind.Sigmoid), candidate = Apply(Slice(preactivation, 3), UnaryKind.Tanh);
            cNext = network.Binary(name + " (i·c~)", BinaryKind.Mul, Value(input), Value(candidate));
            if (c0 is int cell)
            {
                int kept = network.Binary(name + " (f·c)", BinaryKind.Mul, Value(forget), Value(cell));
                cNext = network.Binary(name + " (new cell)", BinaryKind.Add, Value(kept), Value(cNext));
            }
            hNext = network.Binary(name + " (new hidden)", BinaryKind.Mul, Value(output), Value(Apply(cNext, UnaryKind.Tanh)));
        }
        else
        {
            // Gates in ONNX order z, r, h.
            bool linearBeforeReset = a.Int("linear_before_reset", 0) != 0;
            network.Current = flat;
            network.Dense(name + " (W)", "GRU", w, 3 * h, inputs, Bias(0, 0, 3));
            int fromInput = network.Current;
            int zr = Slice(fromInput, 0, 2), candidateInput = Slice(fromInput, 2);
            int recurrentCandidate;
            if (h0 is int state)
            {
                network.Current = state;
                network.Dense(name + " (R z, r)", "GRU", Rows(recurrent, 0, 2), 2 * h, h, Bias(3 * h, 0, 2));
                zr = network.Binary(name + " (z, r)", BinaryKind.Add, Value(zr), Value(network.Current));
            }
            else zr = network.Binary(name + " (z, r)", BinaryKind.Add, Value(zr), Operand.OfConstant(Bias(3 * h, 0, 2), new[] { 2 * h }));
            int z = Apply(Slice(zr, 0), UnaryKind.Sigmoid), reset = Apply(Slice(zr, 1), UnaryKind.Sigmoid);
            float[] recurrentBias = Bias(3 * h, 2, 1);
            if (h0 is int previous)
            {
                if (linearBeforeReset)
                {
                    network.Current = previous;
                    network.Dense(name + " (R h)", "GRU", Rows(recurrent, 2, 1), h, h, recurrentBias);
                    recurrentCandidate = network.Binary(name + " (r·(R·h + Rb))", BinaryKind.Mul, Value(reset), Value(network.Current));
                }
                else
                {
                    network.Current = network.Binary(name + " (r·h)", BinaryKind.Mul, Value(reset), Value(previous));
                    network.Dense(name + " (R h)", "GRU", Rows(recurrent, 2, 1), h, h, recurrentBias);
                    recurrentCandidate = network.Current;
                }
            }
            else recurrentCandidate = linearBeforeReset
                ? network.Binary(name + " (r·Rb)", BinaryKind.Mul, Value(reset), Operand.OfConstant(recurrentBias, new[] { h }))
                : -1;
            int candidateSum = recurrentCandidate >= 0
                ? network.Binary(name + " (candidate)", BinaryKind.Add, Value(candidateInput), Value(recurrentCandidate))
                : network.Binary(name + " (candidate)", BinaryKind.Add, Value(candidateInput), Operand.OfConstant(recurrentBias, new[] { h }));
            int candidate = Apply(candidateSum, UnaryKind.Tanh);
            // h' = (1 − z)·h~ + z·h = h~ + z·(h − h~); with no state, h = 0.
            int difference = h0 is int last
                ? network.Binary(name + " (h − h~)", BinaryKind.Sub, Value(last), Value(candidate))
                : network.Binary(name + " (−h~)", BinaryKind.Mul, Value(candidate), Operand.OfConstant(MinusOne, Scalar));
            int moved = network.Binary(name + " (z·(h − h~))", BinaryKind.Mul, Value(z), Value(difference));
            hNext = network.Binary(name + " (new hidden)", BinaryKind.Add, Value(candidate), Value(moved));
        }

        // Outputs in ONNX shapes: Y [steps 1, directions 1, batch 1, H], Y_h and Y_c [directions 1, batch 1, H].
        int Output(int value, int[] shape, string what)
        {
            network.Current = value;
            network.Reshape(name + " (" + what + ")", shape);
            return network.Current;
        }
        if (node.Output.Count > 1 && node.Output[1].Length > 0) r.Values[node.Output[1]] = Output(hNext, new[] { 1, 1, h }, "Y_h");
        if (node.Output.Count > 2 && node.Output[2].Length > 0) r.Values[node.Output[2]] = Output(cNext, new[] { 1, 1, h }, "Y_c");
        if (node.Output[0].Length == 0) return -1;
        return Output(hNext, new[] { 1, 1, 1, h }, "Y");
    }
}
