using System;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// LSTM and GRU over a pinned sequence of any length and batch: the state passed in (graph inputs, or absent for
/// zeros) and out (the node's Y_h and Y_c), Y holding every step's hidden state. A streaming cell runs one step per
/// call. The cell is written out in layers Qtaml already has: W·x for every step as one dense layer, R·h per step as
/// a dense layer (a sequence is unrolled, each step with its own stored copy of R, bounded), the gates as slices,
/// sigmoid and tanh, and the state update as element-wise products and sums. Forward or reverse direction, ONNX's
/// default activations, no clipping, no peepholes; anything else is a diagnostic.
/// </summary>
internal static partial class OnnxReader
{
    private static readonly float[] MinusOne = { -1f };

    /// <summary>The most recurrent weights an unrolled sequence may store, over all its steps' copies of R.</summary>
    private const long MaxUnrolledRecurrentWeights = 1 << 22;

    internal static int ReadRecurrent(Reading r, NodeProto node, string name, NodeAttributes a, bool lstm)
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
        if (xShape.Length != 3) throw network.Mismatch(name, op + "'s input has shape [" + string.Join(", ", xShape) + "]; ONNX gives it [steps, batch, inputs]");
        int steps = (int)xShape[0], batch = (int)xShape[1], inputs = (int)xShape[2], gates = lstm ? 4 : 3;
        (int[] wDims, float[] w) = r.Context.Tensor(node.Input[1], name);
        (int[] rDims, float[] recurrent) = r.Context.Tensor(node.Input[2], name);
        long hidden = a.Int("hidden_size", rDims.Length == 3 ? rDims[2] : 0);
        if (hidden < 1 || hidden > 1 << 16 || wDims.Length != 3 || !wDims.SequenceEqual(new[] { 1, gates * (int)hidden, inputs }) || rDims.Length != 3 || !rDims.SequenceEqual(new[] { 1, gates * (int)hidden, (int)hidden }))
            throw network.Mismatch(name, op + " weights W " + Shape.Format(wDims) + " and R " + Shape.Format(rDims) + " do not fit " + inputs + " inputs and hidden_size " + hidden + " with " + gates + " gates");
        int h = (int)hidden;
        // A sequence is unrolled, one cell per step; each step reads its own copy of R (the weight image stores R once
        // per step, and each copy leaks on its own), so the copies are bounded.
        if (steps > 1 && (long)steps * recurrent.Length > MaxUnrolledRecurrentWeights)
            throw network.Mismatch(name, op + " over " + steps + " steps would store its " + recurrent.Length + " recurrent weights once per step, more than " + MaxUnrolledRecurrentWeights + "; run one step per call and pass the state in and out");
        float[] bias = node.Input.Count > 3 && node.Input[3].Length > 0 ? r.Context.Vector(node.Input[3], name, 2 * gates * h) : new float[2 * gates * h];
        if (node.Input.Count > 4 && node.Input[4].Length > 0 && (r.IsValue(node.Input[4]) || r.Context.Indices(node.Input[4], name).Values.Any(v => v != steps)))
            throw network.Mismatch(name, op + "'s sequence_lens must be the constant " + steps + " (every sample runs the whole pinned sequence)");
        int? State(int index, string what)
        {
            if (node.Input.Count <= index || node.Input[index].Length == 0) return null;
            if (!r.IsValue(node.Input[index]))
            {
                if (r.Context.Tensor(node.Input[index], name).Values.Any(v => v != 0)) throw network.Mismatch(name, op + "'s " + what + " is a nonzero constant; pass the state as a graph input");
                return null;
            }
            int value = r.Data(node, name, index);
            if (Shape.Length(network.ShapeOf(value)) != batch * h) throw network.Mismatch(name, op + "'s " + what + " has " + Shape.Length(network.ShapeOf(value)) + " values; batch " + batch + " x hidden_size " + h + " is " + batch * h);
            network.Reshape(name + " (" + what + " as rows)", new[] { batch, h });
            return network.Current;
        }
        int? hState = State(5, "initial_h"), cState = lstm ? State(6, "initial_c") : null;

        Operand Value(int v) => network.ValueOperand(v);
        // Columns [first·h, (first + count)·h) of a [batch, gates·h] value: one gate's (or two gates') pre-activations.
        int Gate(int v, int gate, string step, int count = 1)
        {
            network.Current = v;
            return network.AxisMap(name + step + " (gate " + gate + ")", op, new[] { Enumerable.Range(0, batch).ToArray(), Enumerable.Range(gate * h, count * h).ToArray() });
        }
        int Apply(int v, UnaryKind kind, string step)
        {
            network.Current = v;
            return network.Unary(name + step + " (" + kind.ToString().ToLowerInvariant() + ")", kind);
        }
        float[] Rows(float[] weights, int first, int count) => weights.Skip(first * h * (weights == w ? inputs : h)).Take(count * h * (weights == w ? inputs : h)).ToArray();
        float[] Bias(int offset, int first, int count) => bias.Skip(offset + first * h).Take(count * h).ToArray();

        // W·x for every step at once: one dense layer over the [steps, batch] rows.
        network.Current = x;
        if (lstm) network.Dense(name + " (W)", "LSTM", w, 4 * h, inputs, Bias(0, 0, 4).Zip(Bias(4 * h, 0, 4), (p, q) => p + q).ToArray());
        else network.Dense(name + " (W)", "GRU", w, 3 * h, inputs, Bias(0, 0, 3));
        int projected = network.Current;

        bool reverse = direction == "reverse";
        var outputs = new int[steps];
        for (int k = 0; k < steps; k++)
        {
            int t = reverse ? steps - 1 - k : k;
            string step = steps == 1 ? "" : " step " + t;
            network.Current = projected;
            int fromInput = steps == 1 ? projected : network.AxisMap(name + step + " (W·x)", op, new[] { new[] { t }, Enumerable.Range(0, batch).ToArray(), Enumerable.Range(0, gates * h).ToArray() });
            network.Reshape(name + step + " (W·x as rows)", new[] { batch, gates * h });
            fromInput = network.Current;
            if (lstm)
            {
                // Gates in ONNX order i, o, f, c: W·x + R·h + Wb + Rb.
                int preactivation = fromInput;
                if (hState is int state)
                {
                    network.Current = state;
                    network.Dense(name + step + " (R)", "LSTM", recurrent, 4 * h, h, null);
                    preactivation = network.Binary(name + step + " (W·x + R·h)", BinaryKind.Add, Value(preactivation), Value(network.Current));
                }
                int input = Apply(Gate(preactivation, 0, step), UnaryKind.Sigmoid, step), output = Apply(Gate(preactivation, 1, step), UnaryKind.Sigmoid, step);
                int forget = Apply(Gate(preactivation, 2, step), UnaryKind.Sigmoid, step), candidate = Apply(Gate(preactivation, 3, step), UnaryKind.Tanh, step);
                int cNext = network.Binary(name + step + " (i·c~)", BinaryKind.Mul, Value(input), Value(candidate));
                if (cState is int cell)
                {
                    int kept = network.Binary(name + step + " (f·c)", BinaryKind.Mul, Value(forget), Value(cell));
                    cNext = network.Binary(name + step + " (new cell)", BinaryKind.Add, Value(kept), Value(cNext));
                }
                hState = network.Binary(name + step + " (new hidden)", BinaryKind.Mul, Value(output), Value(Apply(cNext, UnaryKind.Tanh, step)));
                cState = cNext;
            }
            else
            {
                // Gates in ONNX order z, r, h.
                bool linearBeforeReset = a.Int("linear_before_reset", 0) != 0;
                int zr = Gate(fromInput, 0, step, 2), candidateInput = Gate(fromInput, 2, step);
                if (hState is int state)
                {
                    network.Current = state;
                    network.Dense(name + step + " (R z, r)", "GRU", Rows(recurrent, 0, 2), 2 * h, h, Bias(3 * h, 0, 2));
                    zr = network.Binary(name + step + " (z, r)", BinaryKind.Add, Value(zr), Value(network.Current));
                }
                else zr = network.Binary(name + step + " (z, r)", BinaryKind.Add, Value(zr), Operand.OfConstant(Bias(3 * h, 0, 2), new[] { 2 * h }));
                int z = Apply(Gate(zr, 0, step), UnaryKind.Sigmoid, step), reset = Apply(Gate(zr, 1, step), UnaryKind.Sigmoid, step);
                float[] recurrentBias = Bias(3 * h, 2, 1);
                int recurrentCandidate;
                if (hState is int previous)
                {
                    if (linearBeforeReset)
                    {
                        network.Current = previous;
                        network.Dense(name + step + " (R h)", "GRU", Rows(recurrent, 2, 1), h, h, recurrentBias);
                        recurrentCandidate = network.Binary(name + step + " (r·(R·h + Rb))", BinaryKind.Mul, Value(reset), Value(network.Current));
                    }
                    else
                    {
                        network.Current = network.Binary(name + step + " (r·h)", BinaryKind.Mul, Value(reset), Value(previous));
                        network.Dense(name + step + " (R h)", "GRU", Rows(recurrent, 2, 1), h, h, recurrentBias);
                        recurrentCandidate = network.Current;
                    }
                }
                else recurrentCandidate = linearBeforeReset
                    ? network.Binary(name + step + " (r·Rb)", BinaryKind.Mul, Value(reset), Operand.OfConstant(recurrentBias, new[] { h }))
                    : -1;
                int candidateSum = recurrentCandidate >= 0
                    ? network.Binary(name + step + " (candidate)", BinaryKind.Add, Value(candidateInput), Value(recurrentCandidate))
                    : network.Binary(name + step + " (candidate)", BinaryKind.Add, Value(candidateInput), Operand.OfConstant(recurrentBias, new[] { h }));
                int candidate = Apply(candidateSum, UnaryKind.Tanh, step);
                // h' = (1 − z)·h~ + z·h = h~ + z·(h − h~); with no state, h = 0.
                int difference = hState is int last
                    ? network.Binary(name + step + " (h − h~)", BinaryKind.Sub, Value(last), Value(candidate))
                    : network.Binary(name + step + " (−h~)", BinaryKind.Mul, Value(candidate), Operand.OfConstant(MinusOne, Scalar));
                int moved = network.Binary(name + step + " (z·(h − h~))", BinaryKind.Mul, Value(z), Value(difference));
                hState = network.Binary(name + step + " (new hidden)", BinaryKind.Add, Value(candidate), Value(moved));
            }
            outputs[t] = hState!.Value;
        }

        // Outputs in ONNX shapes: Y [steps, directions 1, batch, H], Y_h and Y_c [directions 1, batch, H].
        int Output(int value, int[] shape, string what)
        {
            network.Current = value;
            network.Reshape(name + " (" + what + ")", shape);
            return network.Current;
        }
        if (node.Output.Count > 1 && node.Output[1].Length > 0) r.Values[node.Output[1]] = Output(hState!.Value, new[] { 1, batch, h }, "Y_h");
        if (node.Output.Count > 2 && node.Output[2].Length > 0) r.Values[node.Output[2]] = Output(cState!.Value, new[] { 1, batch, h }, "Y_c");
        if (node.Output[0].Length == 0) return -1;
        if (steps == 1) return Output(outputs[0], new[] { 1, 1, batch, h }, "Y");
        Operand[] parts = outputs.Select((v, t) => Value(Output(v, new[] { 1, 1, batch, h }, "Y step " + t))).ToArray();
        return network.Concat(name + " (Y)", parts, 0);
    }
}
