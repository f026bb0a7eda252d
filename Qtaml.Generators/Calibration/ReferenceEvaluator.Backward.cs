using System;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Calibration;

/// <summary>
/// Reverse mode of the reference evaluator: vector-Jacobian products. Given the values of one forward pass and a
/// vector u over one value (the decision vector), <see cref="Backward"/> returns ∂⟨u, y⟩/∂W for every weight
/// layer at once, one sweep over the layers in reverse, each operator's adjoint written beside the forward rule
/// it inverts. Its cost is about two forward passes whatever the depth, where probing each layer's weights costs a
/// pass per layer per probe. Where an operator is not differentiable (a ReLU at 0, the ties of a max) the adjoint
/// takes the side the forward rule takes; comparisons and conditions pass no gradient, and a
/// cast that rounds passes it unchanged (straight through: a flip's error is far larger than a rounding step).
/// </summary>
internal sealed partial class ReferenceEvaluator
{
    /// <summary>
    /// The gradient of ⟨<paramref name="seed"/>, values[<paramref name="from"/>]⟩ with respect to every weight layer's
    /// weights ([k] for weight layer k, null where the value does not depend on it) and, in
    /// <paramref name="inputGradient"/>, to the first graph input. <paramref name="values"/> is a filled forward pass.
    /// </summary>
    public double[]?[] Backward(double[][] values, int from, double[] seed, out double[]? inputGradient) =>
        Backward(values, new[] { (from, seed) }, out inputGradient);

    /// <summary>The same for a sum of projections of several values: Σ ⟨seed_v, values[v]⟩ (a model's several outputs).</summary>
    public double[]?[] Backward(double[][] values, (int Value, double[] Seed)[] seeds, out double[]? inputGradient)
    {
        Layer[] layers = _graph.Layers;
        var gradient = new Adjoints(layers.Length + 1, null);
        int last = 0;
        foreach ((int value, double[] seed) in seeds)
        {
            double[] g = gradient.For(values, value);
            for (int j = 0; j < g.Length; j++) g[j] += seed[j];
            last = Math.Max(last, value);
        }
        var weightGradient = new double[WeightLayerIndices.Length][];
        for (int i = last - 1; i >= 0; i--)
        {
            double[]? dy = gradient.Take(i + 1);
            if (dy is null || !Taken(layers[i], values)) continue;
            int ordinal = _weightOrdinal[i];
            double[]? dw = null;
            if (ordinal >= 0) dw = weightGradient[ordinal] ??= new double[_weights[ordinal].Length];
            Adjoint(layers[i], values, values[i + 1], dy, gradient, ordinal < 0 ? null : _weights[ordinal], dw);
        }
        inputGradient = gradient.Take(0);
        return weightGradient;
    }

    /// <summary>
    /// Several gradients in one sweep: for each seed s, the gradient of ⟨seeds[s], values[<paramref name="from"/>]⟩
    /// with respect to each weight layer's weights, handed to <paramref name="weightGradients"/> (the weight layer's
    /// ordinal, one array per seed) as soon as the sweep has passed that layer, and taken back afterwards: only one
    /// layer's weight gradients and the live values' gradients exist at a time, whatever the network's size. The
    /// arrays are rented from <paramref name="buffers"/> and returned to it.
    /// </summary>
    public void BackwardEach(double[][] values, int from, double[][] seeds, Action<int, double[][]> weightGradients, DoubleBuffers? buffers)
    {
        Layer[] layers = _graph.Layers;
        var gradients = new Adjoints[seeds.Length];
        for (int s = 0; s < seeds.Length; s++)
        {
            gradients[s] = new Adjoints(layers.Length + 1, buffers);
            Array.Copy(seeds[s], gradients[s].For(values, from), seeds[s].Length);
        }
        var dws = new double[seeds.Length][];
        for (int i = from - 1; i >= 0; i--)
        {
            Layer layer = layers[i];
            bool taken = Taken(layer, values);
            int ordinal = _weightOrdinal[i];
            bool any = false;
            for (int s = 0; s < seeds.Length; s++)
            {
                double[]? dy = gradients[s].Take(i + 1);
                if (dy is null) continue;
                if (taken)
                {
                    if (ordinal >= 0) dws[s] ??= DoubleBuffers.Rent(buffers, _weights[ordinal].Length);
                    Adjoint(layer, values, values[i + 1], dy, gradients[s], ordinal < 0 ? null : _weights[ordinal], ordinal < 0 ? null : dws[s]);
                    any = true;
                }
                buffers?.Return(dy);
            }
            if (ordinal < 0 || !any) continue;
            for (int s = 0; s < seeds.Length; s++) dws[s] ??= DoubleBuffers.Rent(buffers, _weights[ordinal].Length);
            weightGradients(ordinal, dws);
            for (int s = 0; s < seeds.Length; s++)
            {
                buffers?.Return(dws[s]);
                dws[s] = null!;
            }
        }
        foreach (Adjoints gradient in gradients) buffers?.Return(gradient.Take(0));
    }

    /// <summary>Whether a layer's rule ran: a branch not taken is constant, and passes no gradient.</summary>
    private static bool Taken(Layer layer, double[][] values) =>
        layer.Guard is not { } guard || values[guard.Value].Length == 0 || (values[guard.Value][0] != 0) == guard.When;

    /// <summary>Per value, the gradient accumulated so far: made (rented) on first use, taken once the sweep reaches its producer.</summary>
    private sealed class Adjoints
    {
        private readonly double[]?[] _of;
        private readonly DoubleBuffers? _buffers;

        public Adjoints(int values, DoubleBuffers? buffers)
        {
            _of = new double[values][];
            _buffers = buffers;
        }

        /// <summary>The gradient buffer of value <paramref name="value"/>, made on first use.</summary>
        public double[] For(double[][] values, int value) => _of[value] ??= DoubleBuffers.Rent(_buffers, values[value].Length);

        /// <summary>
        /// The gradient buffer of <paramref name="value"/> for a rule that writes every element: when no rule has made it
        /// yet (<paramref name="fresh"/>) it is not zeroed and the caller must assign each element, not add to it.
        /// </summary>
        public double[] ForWrite(double[][] values, int value, out bool fresh)
        {
            fresh = _of[value] is null;
            return _of[value] ??= DoubleBuffers.Rent(_buffers, values[value].Length, zeroed: false);
        }

        /// <summary>The gradient of <paramref name="value"/>, complete once its readers are swept; the table lets go of it.</summary>
        public double[]? Take(int value)
        {
            double[]? gradient = _of[value];
            _of[value] = null;
            return gradient;
        }
    }

    private void Adjoint(Layer layer, double[][] values, double[] y, double[] dy, Adjoints gradient, double[]? w, double[]? dw)
    {
        double[] X(int k = 0) => values[layer.Inputs[k]];
        double[] DX(int k = 0) => gradient.For(values, layer.Inputs[k]);
        // The element-wise rules write a gradient no other rule has touched yet instead of adding to zeros (zeroing
        // measured a tenth of a calibration's time); adding to an array of zeros would give the same values.
        double[] Fresh(out bool fresh) => gradient.ForWrite(values, layer.Inputs[0], out fresh);
        switch (layer)
        {
            case DenseLayer d: DenseAdjoint(d, X(), dy, DX(), w!, dw!); break;
            case ConvLayer c: ConvAdjoint(c, X(), dy, DX(), w!, dw!); break;
            case EmbeddingLayer e:
            {
                // Indices pass no gradient (they are whole numbers); each picked row gets its output's.
                double[]? indices = e.Indices is null ? X() : null;
                for (int t = 0; t < e.Count; t++)
                {
                    int row = EmbeddingRow(e, indices, t);
                    for (int j = 0; j < e.Width; j++) dw![row * e.Width + j] += dy[t * e.Width + j];
                }
            }
                break;
            case PoolLayer p: PoolAdjoint(p, X(), dy, DX()); break;
            case GraphInputLayer: break;
            case ReluLayer:
            {
                double[] x = X(), dx = Fresh(out bool fresh);
                if (fresh) for (int i = 0; i < dy.Length; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
                else for (int i = 0; i < dy.Length; i++) if (x[i] > 0) dx[i] += dy[i];
                break;
            }
            case SoftmaxLayer s: SoftmaxAdjoint(s, y, dy, DX()); break;
            case ReshapeLayer:
            {
                double[] dx = Fresh(out bool fresh);
                if (fresh) Array.Copy(dy, dx, dy.Length);
                else Accumulate(dx, dy);
                break;
            }
            case UnaryLayer u:
            {
                double[] x = X(), dx = Fresh(out bool fresh);
                if (fresh) for (int i = 0; i < dy.Length; i++) dx[i] = dy[i] * UnarySlope(u, x[i]);
                else for (int i = 0; i < dy.Length; i++) dx[i] += dy[i] * UnarySlope(u, x[i]);
                break;
            }
            case BinaryLayer b: BinaryAdjoint(b, values, dy, gradient); break;
            case LayerNormLayer n:
                for (int r = 0; r < n.Rows; r++) StandardizeAdjoint(X(), dy, DX(), r * n.Length, n.Length, n.Epsilon, i => n.Gamma[i % n.Gamma.Length]);
                break;
            case InstanceNormLayer n:
                for (int p = 0; p < n.Planes; p++)
                {
                    float scale = n.Scale[p % n.Channels];
                    StandardizeAdjoint(X(), dy, DX(), p * n.Plane, n.Plane, n.Epsilon, _ => scale);
                }
                break;
            case MatMulLayer m: MatMulAdjoint(m, X(0), X(1), dy, DX(0), DX(1)); break;
            case TransposeLayer t: TransposeAdjoint(t, dy, DX()); break;
            case ReduceLayer r: ReduceAdjoint(r, X(), dy, DX()); break;
            case ConcatLayer c:
            {
                int at = 0;
                for (int outer = 0; outer < c.Outer; outer++)
                    foreach (Operand part in c.Parts)
                    {
                        int chunk = c.Chunk(part);
                        if (!part.IsConstant)
                        {
                            double[] dp = gradient.For(values, part.Value);
                            for (int j = 0; j < chunk; j++) dp[outer * chunk + j] += dy[at + j];
                        }
                        at += chunk;
                    }
                break;
            }
            case AxisMapLayer a: AxisMapAdjoint(a, dy, DX()); break;
            case WhereLayer where:
            {
                double[] condition = Read(where.Condition, values);
                int[]? cs = Broadcast(where.Condition, where), ts = Broadcast(where.WhenTrue, where), fs = Broadcast(where.WhenFalse, where);
                double[]? dt = where.WhenTrue.IsConstant ? null : gradient.For(values, where.WhenTrue.Value);
                double[]? df = where.WhenFalse.IsConstant ? null : gradient.For(values, where.WhenFalse.Value);
                for (int i = 0; i < dy.Length; i++)
                {
                    if (condition[cs?[i] ?? i] != 0) { if (dt is not null) dt[ts?[i] ?? i] += dy[i]; }
                    else if (df is not null) df[fs?[i] ?? i] += dy[i];
                }
                break;
            }
            default: throw new NotSupportedException("The reference evaluator has no adjoint for " + layer.GetType().Name + ".");
        }
    }

    /// <summary>into[i] += from[i]: a gradient passed through unchanged.</summary>
    private static void Accumulate(double[] into, double[] from) => DoubleKernels.Axpy(1, from, 0, into, 0, from.Length);

    private static void DenseAdjoint(DenseLayer d, double[] x, double[] dy, double[] dx, double[] w, double[] dw)
    {
        int inputs = d.InputCount, outputs = d.Outputs;
        for (int r = 0; r < d.Rows; r++)
            for (int o = 0; o < outputs; o++)
            {
                double g = dy[r * outputs + o];
                if (g == 0) continue;
                DoubleKernels.Axpy(g, w, o * inputs, dx, r * inputs, inputs);
                DoubleKernels.Axpy(g, x, r * inputs, dw, o * inputs, inputs);
            }
    }

    /// <summary>The forward rule's loops in the same order: per tap and output row, dW gets ⟨dy row, x row⟩ and dx gets w·dy row.</summary>
    private static void ConvAdjoint(ConvLayer c, double[] x, double[] dy, double[] dx, double[] w, double[] dw)
    {
        Window k = c.Window;
        int groupIn = c.GroupInChannels, groupOut = c.OutChannels / c.Groups;
        int inC = c.InChannels, inD = c.InD, inH = c.InH, inW = c.InW, outC = c.OutChannels, outD = c.OutD, outH = c.OutH, outW = c.OutW;
        int inPlane = inH * inW, outPlane = outH * outW, inVolume = inD * inPlane, outVolume = outD * outPlane;
        if (IsPointwise(c))
        {
            for (int n = 0; n < c.Images; n++)
                for (int g = 0; g < c.Groups; g++)
                    ReferenceConvKernels.Backward(x, dx, (n * inC + g * groupIn) * inVolume, dy, (n * outC + g * groupOut) * outVolume, w, dw, g * groupOut * groupIn, groupOut, groupIn, outVolume);
            return;
        }
        // Output channels in the forward rule's blocks: each weight's gradient is summed row by row as before, and each
        // input's gradient gets the block's channels tap by tap.
        var sums = new double[ReferenceConvKernels.Block];
        for (int n = 0; n < c.Images; n++)
        for (int o = 0; o < outC; o += RowBlock(o, groupOut))
        {
            int rows = RowBlock(o, groupOut), yVolume = (n * outC + o) * outVolume, firstIn = o / groupOut * groupIn;
            for (int ci = 0; ci < groupIn; ci++)
            {
                int xVolume = (n * inC + firstIn + ci) * inVolume, tap = (o * groupIn + ci) * k.Size;
                for (int kd = 0; kd < k.KernelD; kd++)
                {
                    (int od0, int od1) = ValidOutputs(inD, outD, k.StrideD, kd * k.DilationD - k.PadFront);
                    for (int ky = 0; ky < k.KernelH; ky++)
                    {
                        (int oy0, int oy1) = ValidOutputs(inH, outH, k.StrideH, ky * k.DilationH - k.PadTop);
                        for (int kx = 0; kx < k.KernelW; kx++)
                        {
                            (int ox0, int ox1) = ValidOutputs(inW, outW, k.StrideW, kx * k.DilationW - k.PadLeft);
                            int count = ox1 - ox0, wi = tap + (kd * k.KernelH + ky) * k.KernelW + kx;
                            if (count == 0) continue;
                            Array.Clear(sums, 0, rows);
                            for (int od = od0; od < od1; od++)
                                for (int oy = oy0; oy < oy1; oy++)
                                {
                                    int id = od * k.StrideD + kd * k.DilationD - k.PadFront, iy = oy * k.StrideH + ky * k.DilationH - k.PadTop;
                                    int xi = xVolume + id * inPlane + iy * inW + ox0 * k.StrideW + kx * k.DilationW - k.PadLeft;
                                    int yi = yVolume + od * outPlane + oy * outW + ox0;
                                    ReferenceConvKernels.BackwardRows(x, dx, xi, k.StrideW, dy, yi, outVolume, w, wi, groupIn * k.Size, rows, count, sums);
                                }
                            for (int j = 0; j < rows; j++) dw[wi + j * groupIn * k.Size] += sums[j];
                        }
                    }
                }
            }
        }
    }

    private static void PoolAdjoint(PoolLayer p, double[] x, double[] dy, double[] dx)
    {
        Window k = p.Window;
        bool max = p.Kind == PoolKind.Max;
        int inD = p.InD, inH = p.InH, inW = p.InW, outD = p.OutD, outH = p.OutH, outW = p.OutW;
        var taps = new int[k.Size];
        for (int c = 0; c < p.Images * p.Channels; c++)
            for (int od = 0; od < outD; od++)
                for (int oy = 0; oy < outH; oy++)
                    for (int ox = 0; ox < outW; ox++)
                    {
                        double g = dy[((c * outD + od) * outH + oy) * outW + ox];
                        if (g == 0) continue;
                        // The forward rule's choice again: the first largest input, or the inputs averaged and their count.
                        int count = PoolTaps(k, c, od, oy, ox, inD, inH, inW, taps);
                        if (count == 0) continue;
                        if (max)
                        {
                            int best = taps[0];
                            for (int t = 1; t < count; t++)
                                if (x[taps[t]] > x[best]) best = taps[t];
                            dx[best] += g;
                            continue;
                        }
                        double share = g / (p.CountIncludePad ? k.Size : count);
                        for (int t = 0; t < count; t++) dx[taps[t]] += share;
                    }
    }

    /// <summary>dy/dx of each unary rule of <see cref="Unary(UnaryLayer, double)"/>.</summary>
    private static double UnarySlope(UnaryLayer u, double x)
    {
        const double InverseSqrtPi = 0.56418958354775628;   // 1/√π
        switch (u.Kind)
        {
            case UnaryKind.Erf: return 2 * InverseSqrtPi * Math.Exp(-x * x);
            case UnaryKind.Gelu: return 0.5 * (1 + ReferenceMath.Erf(x / Math.Sqrt(2))) + x * Math.Exp(-0.5 * x * x) * InverseSqrtPi / Math.Sqrt(2);
            case UnaryKind.Sqrt: return x > 0 ? 0.5 / Math.Sqrt(x) : 0;
            case UnaryKind.Tanh: { double t = Math.Tanh(x); return 1 - t * t; }
            case UnaryKind.Sigmoid: { double s = 1 / (1 + Math.Exp(-x)); return s * (1 - s); }
            case UnaryKind.Exp: return Math.Exp(x);
            case UnaryKind.Neg: return -1;
            case UnaryKind.Abs: return x > 0 ? 1 : x < 0 ? -1 : 0;
            case UnaryKind.Reciprocal: return -1 / (x * x);
            case UnaryKind.Log: return 1 / x;
            case UnaryKind.LeakyRelu: return x >= 0 ? 1 : u.Alpha;
            case UnaryKind.Elu: return x > 0 ? 1 : u.Alpha * Math.Exp(x);
            case UnaryKind.Selu: return u.Beta * (x > 0 ? 1 : u.Alpha * Math.Exp(x));
            case UnaryKind.Softplus: return 1 / (1 + Math.Exp(-x));
            case UnaryKind.Softsign: { double d = 1 + Math.Abs(x); return 1 / (d * d); }
            case UnaryKind.HardSigmoid: { double z = u.Alpha * x + u.Beta; return z > 0 && z < 1 ? u.Alpha : 0; }
            case UnaryKind.HardSwish: return x <= -3 ? 0 : x >= 3 ? 1 : x / 3 + 0.5;
            case UnaryKind.Clip: return x > u.Alpha && x < u.Beta ? 1 : 0;
            // A cast to float16 rounds to 11 significant bits: flat between its steps, but an error of the size a
            // stored weight's flips make passes it unchanged (the straight-through rule).
            case UnaryKind.RoundToHalf: return 1;
            default: return 0;   // Not: flat
        }
    }

    private void BinaryAdjoint(BinaryLayer b, double[][] values, double[] dy, Adjoints gradient)
    {
        double[] l = Read(b.Left, values), r = Read(b.Right, values);
        bool oneValue = !b.Left.IsConstant && !b.Right.IsConstant && b.Left.Value == b.Right.Value;
        if (b.Kind is BinaryKind.Add or BinaryKind.Sub or BinaryKind.Mul && !oneValue)
        {
            // Each side in a loop of its own, chunk by chunk of the broadcast's runs, without a test or an index map
            // per element (an array's sums keep their order: the two sides are different arrays, and each element of
            // a side receives its terms in output order, as one at a time). A side of the output's shape whose
            // gradient no rule has made yet is written rather than added to zeros (a squeeze-and-excitation block's
            // Mul: zeroing its image's gradient was 6% of a calibration); the values are the same.
            BroadcastRuns runs = Runs(b);
            double[]? Side(Operand side, out bool fresh)
            {
                fresh = false;
                if (side.IsConstant) return null;
                return side.Length == dy.Length ? gradient.ForWrite(values, side.Value, out fresh) : gradient.For(values, side.Value);
            }
            double[]? toLeft = Side(b.Left, out bool leftFresh), toRight = Side(b.Right, out bool rightFresh);
            if (b.Kind == BinaryKind.Mul)
            {
                if (toLeft is not null) ProductAdjoint(dy, r, toLeft, runs, 0, leftFresh);
                if (toRight is not null) ProductAdjoint(dy, l, toRight, runs, 1, rightFresh);
            }
            else
            {
                if (toLeft is not null) SumAdjoint(dy, 1, toLeft, runs, 0, leftFresh);
                if (toRight is not null) SumAdjoint(dy, b.Kind == BinaryKind.Sub ? -1 : 1, toRight, runs, 1, rightFresh);
            }
            return;
        }
        int[]? left = Broadcast(b.Left, b), right = Broadcast(b.Right, b);
        double[]? dl = b.Left.IsConstant ? null : gradient.For(values, b.Left.Value);
        double[]? dr = b.Right.IsConstant ? null : gradient.For(values, b.Right.Value);
        if (b.Kind >= BinaryKind.Equal) return;   // comparisons and logic are flat
        if (b.Kind is BinaryKind.Add or BinaryKind.Sub or BinaryKind.Mul)
        {
            // One value on both sides (x + x, x·x): both contributions element by element, in order, into its one gradient.
            // ∂(l ± r) = (1, ±1), ∂(l·r) = (r, l).
            bool product = b.Kind == BinaryKind.Mul;
            double sign = b.Kind == BinaryKind.Sub ? -1 : 1;
            for (int i = 0; i < dy.Length; i++)
            {
                double g = dy[i];
                int li = left is null ? i : left[i], ri = right is null ? i : right[i];
                if (dl is not null) dl[li] += product ? g * r[ri] : g;
                if (dr is not null) dr[ri] += product ? g * l[li] : sign * g;
            }
            return;
        }
        for (int i = 0; i < dy.Length; i++)
        {
            double g = dy[i];
            if (g == 0) continue;
            int li = left?[i] ?? i, ri = right?[i] ?? i;
            double a = l[li], c = r[ri];
            (double byLeft, double byRight) = b.Kind switch
            {
                BinaryKind.Add => (1, 1),
                BinaryKind.Sub => (1, -1),
                BinaryKind.Mul => (c, a),
                BinaryKind.Div => (1 / c, -a / (c * c)),
                BinaryKind.Pow => (a == 0 && c < 1 ? 0 : c * Math.Pow(a, c - 1), a > 0 ? Math.Pow(a, c) * Math.Log(a) : 0),
                BinaryKind.Max => a >= c ? (1d, 0d) : (0d, 1d),
                BinaryKind.Min => a <= c ? (1d, 0d) : (0d, 1d),
                BinaryKind.PRelu => a >= 0 ? (1d, 0d) : (c, a),
                _ => (0d, 0d),
            };
            if (dl is not null) dl[li] += g * byLeft;
            if (dr is not null) dr[ri] += g * byRight;
        }
    }

    /// <summary>
    /// d += sign·g read back through the broadcast: one side (<paramref name="side"/> of <paramref name="runs"/>) of a
    /// sum's adjoint. <paramref name="fresh"/>: d has the output's shape, holds anything and is written, as adding to
    /// zeros would.
    /// </summary>
    private static void SumAdjoint(double[] g, double sign, double[] d, BroadcastRuns runs, int side, bool fresh)
    {
        int run = runs.Run;
        bool steps = runs.Steps(side);
        for (int chunk = 0, at = 0; chunk < runs.Chunks; chunk++, at += run)
        {
            int to = runs.Start(side, chunk);
            if (fresh) DoubleKernels.Scale(sign, g, at, d, to, run);
            else if (steps) DoubleKernels.Axpy(sign, g, at, d, to, run);
            else
            {
                // One value takes the whole run's terms, in order.
                double sum = d[to];
                for (int j = 0; j < run; j++) sum += sign * g[at + j];
                d[to] = sum;
            }
        }
    }

    /// <summary>
    /// d += g·other read back through the broadcast: one side (<paramref name="side"/> of <paramref name="runs"/>; other
    /// is the opposite side's value) of a product's adjoint. <paramref name="fresh"/>: d has the output's shape, holds
    /// anything and is written, as adding to zeros would.
    /// </summary>
    private static void ProductAdjoint(double[] g, double[] other, double[] d, BroadcastRuns runs, int side, bool fresh)
    {
        int run = runs.Run;
        bool steps = runs.Steps(side), otherSteps = runs.Steps(1 - side);
        for (int chunk = 0, at = 0; chunk < runs.Chunks; chunk++, at += run)
        {
            int to = runs.Start(side, chunk), from = runs.Start(1 - side, chunk);
            if (steps && otherSteps)
            {
                if (fresh) DoubleKernels.Multiply(g, at, other, from, d, to, run);
                else DoubleKernels.MultiplyAdd(g, at, other, from, d, to, run);
            }
            else if (steps)
            {
                if (fresh) DoubleKernels.Scale(other[from], g, at, d, to, run);
                else DoubleKernels.Axpy(other[from], g, at, d, to, run);
            }
            else d[to] = DoubleKernels.SumInOrder(d[to], g, at, other, from, run, otherSteps ? 1 : 0);   // one value takes the run's terms
        }
    }

    /// <summary>y = softmax rows (or their log): dx = y ⊙ (dy − Σ dy·y), or for the log dx = dy − softmax · Σ dy.</summary>
    private static void SoftmaxAdjoint(SoftmaxLayer s, double[] y, double[] dy, double[] dx)
    {
        for (int row = 0; row < s.Rows; row++)
        {
            int at = row * s.Length;
            double dot = 0;
            for (int i = 0; i < s.Length; i++) dot += s.Log ? dy[at + i] : dy[at + i] * y[at + i];
            for (int i = 0; i < s.Length; i++)
                dx[at + i] += s.Log ? dy[at + i] - Math.Exp(y[at + i]) * dot : y[at + i] * (dy[at + i] - dot);
        }
    }

    /// <summary>
    /// The adjoint of y = x̂·γ + β with x̂ = (x − mean)/√(var + ε) over <paramref name="length"/> values:
    /// dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) / √(var + ε), ĝ = dy·γ.
    /// </summary>
    private static void StandardizeAdjoint(double[] x, double[] dy, double[] dx, int at, int length, double epsilon, Func<int, double> gamma)
    {
        double mean = 0, variance = 0;
        for (int i = 0; i < length; i++) mean += x[at + i];
        mean /= length;
        for (int i = 0; i < length; i++) variance += (x[at + i] - mean) * (x[at + i] - mean);
        double inverse = 1 / Math.Sqrt(variance / length + epsilon);
        double meanG = 0, meanGx = 0;
        for (int i = 0; i < length; i++)
        {
            double g = dy[at + i] * gamma(i), xhat = (x[at + i] - mean) * inverse;
            meanG += g;
            meanGx += g * xhat;
        }
        meanG /= length;
        meanGx /= length;
        for (int i = 0; i < length; i++)
        {
            double g = dy[at + i] * gamma(i), xhat = (x[at + i] - mean) * inverse;
            dx[at + i] += (g - meanG - xhat * meanGx) * inverse;
        }
    }

    private static void MatMulAdjoint(MatMulLayer m, double[] a, double[] b, double[] dy, double[] da, double[] db)
    {
        int rows = m.M, inner = m.K, columns = m.N;
        bool shared = m.RightIsShared;
        for (int batch = 0; batch < m.Batch; batch++)
        {
            int left = batch * rows * inner, right = shared ? 0 : batch * inner * columns, result = batch * rows * columns;
            for (int i = 0; i < rows; i++)
                for (int k = 0; k < inner; k++)
                {
                    da[left + i * inner + k] += DoubleKernels.Dot(dy, result + i * columns, b, right + k * columns, columns);
                    double factor = a[left + i * inner + k];
                    if (factor != 0) DoubleKernels.Axpy(factor, dy, result + i * columns, db, right + k * columns, columns);
                }
        }
    }

    private static void TransposeAdjoint(TransposeLayer t, double[] dy, double[] dx)
    {
        int[] inStrides = Shape.BroadcastStrides(t.InputShape, t.InputShape);
        for (int o = 0; o < dy.Length; o++) dx[TransposeSource(t, inStrides, o)] += dy[o];
    }

    private static void ReduceAdjoint(ReduceLayer r, double[] x, double[] dy, double[] dx)
    {
        for (int outer = 0; outer < r.Outer; outer++)
            for (int inner = 0; inner < r.Inner; inner++)
            {
                double g = dy[outer * r.Inner + inner];
                if (r.Kind is ReduceKind.Max or ReduceKind.Min)
                {
                    // The first extreme input, as the forward rule keeps it.
                    int best = outer * r.Reduced * r.Inner + inner;
                    for (int k = 1; k < r.Reduced; k++)
                    {
                        int at = (outer * r.Reduced + k) * r.Inner + inner;
                        if (r.Kind == ReduceKind.Max ? x[at] > x[best] : x[at] < x[best]) best = at;
                    }
                    dx[best] += g;
                    continue;
                }
                double share = r.Kind == ReduceKind.Mean ? g / r.Reduced : g;
                for (int k = 0; k < r.Reduced; k++) dx[(outer * r.Reduced + k) * r.Inner + inner] += share;
            }
    }

    private static void AxisMapAdjoint(AxisMapLayer a, double[] dy, double[] dx)
    {
        int[] inStrides = Shape.BroadcastStrides(a.InputShape, a.InputShape);
        for (int o = 0; o < dy.Length; o++)
        {
            int source = AxisMapSource(a, inStrides, o);
            if (source >= 0) dx[source] += dy[o];
        }
    }
}
