using System;
using System.Linq;
using System.Numerics;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Calibration;

/// <summary>
/// Runs the float network the kernel program is lowered from, one layer at a time in double precision, every value
/// row-major in its ONNX shape: the plain arithmetic of each operator, written for clarity, not speed. The build
/// uses it on calibration inputs (mean squares, decisions and margins, and by reverse mode the Jacobians); tests hold it against the
/// compiled float build, which runs the lowered program, so the two readings of a layer cannot drift apart.
///
/// One <see cref="Run"/> evaluates every layer; <see cref="RunFrom"/> re-evaluates from a layer on with some weight
/// tensors replaced, reusing the values before it (the fault simulation runs every input on faulted weights).
/// </summary>
internal sealed partial class ReferenceEvaluator
{
    private readonly NetworkGraph _graph;
    private readonly int[] _weightOrdinal;   // per layer: its position among the weight layers, or −1
    private readonly double[][] _weights;    // per weight layer: its weights, widened once
    // Widened constants and broadcast index maps, made on first use; concurrent, as calibration runs inputs in parallel.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Operand, double[]> _constants = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(Operand, Layer), int[]> _broadcasts = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Layer, BroadcastRuns> _runs = new();
    private static readonly int[] SameIndex = Array.Empty<int>();

    public ReferenceEvaluator(NetworkGraph graph)
    {
        _graph = graph;
        _weightOrdinal = new int[graph.Layers.Length];
        int next = 0;
        for (int i = 0; i < graph.Layers.Length; i++) _weightOrdinal[i] = graph.Layers[i] is WeightLayer ? next++ : -1;
        WeightLayerIndices = Enumerable.Range(0, graph.Layers.Length).Where(i => graph.Layers[i] is WeightLayer).ToArray();
        _weights = WeightLayerIndices.Select(i => Array.ConvertAll(((WeightLayer)graph.Layers[i]).Weights, w => (double)w)).ToArray();
    }

    /// <summary>For each weight layer in order, its index among all layers.</summary>
    public int[] WeightLayerIndices { get; }

    /// <summary>
    /// One calibration row cut into the network's inputs: a row holds every graph input in port order, concatenated
    /// (as the generated single-span <c>Run</c> takes them). The first is value 0; with several, all are also given by
    /// port index for <see cref="Run"/>'s <c>otherInputs</c> (null for a network of one input).
    /// </summary>
    public (double[] First, double[][]? Others) SplitRow(double[] row)
    {
        GraphPort[] ports = _graph.Inputs;
        if (ports.Length <= 1) return (row, null);
        var others = new double[ports.Length][];
        int at = 0;
        for (int k = 0; k < ports.Length; k++)
        {
            int length = _graph.PortLength(ports[k]);
            others[k] = new double[length];
            Array.Copy(row, at, others[k], 0, length);
            at += length;
        }
        return (others[0], others);
    }

    /// <summary>
    /// Every value of the network for one sample: [0] is the first input, [i + 1] the output of layer i. Further
    /// graph inputs are read from <paramref name="otherInputs"/> by their port index (1 or more).
    /// </summary>
    /// <param name="buffers">Where the values' arrays are rented from (a caller that hands them back passes one), or null for fresh arrays.</param>
    public double[][] Run(double[] input, double[][]? otherInputs = null, DoubleBuffers? buffers = null)
    {
        var values = new double[_graph.Layers.Length + 1][];
        values[0] = input;
        RunFrom(values, 0, null, otherInputs, buffers);
        return values;
    }

    /// <summary>
    /// Recomputes values from layer <paramref name="first"/> on, in place; values before it must be filled.
    /// <paramref name="weights"/>[k], when not null, replaces the weight tensor of weight layer k (same length).
    /// </summary>
    public void RunFrom(double[][] values, int first, double[]?[]? weights, double[][]? otherInputs = null, DoubleBuffers? buffers = null)
    {
        Layer[] layers = _graph.Layers;
        for (int i = first; i < layers.Length; i++)
        {
            Layer layer = layers[i];
            if (layer.Guard is { } guard && values[guard.Value].Length > 0 && (values[guard.Value][0] != 0) != guard.When)
            {
                values[i + 1] = DoubleBuffers.Rent(buffers, layer.OutputLength);   // the branch not taken: its values are never read (a Where picks the other)
                continue;
            }
            double[] output = DoubleBuffers.Rent(buffers, layer.OutputLength, zeroed: !WritesEveryOutput(layer));
            int ordinal = _weightOrdinal[i];
            double[]? w = ordinal < 0 ? null : weights?[ordinal] ?? _weights[ordinal];
            Evaluate(layer, values, output, w, otherInputs);
            values[i + 1] = output;
        }
    }

    /// <summary>Whether a layer's rule assigns every output value (so its array need not be zeroed first) rather than adding into some.</summary>
    private static bool WritesEveryOutput(Layer layer) =>
        layer is ConvLayer or DenseLayer or ReluLayer or ReshapeLayer or UnaryLayer or BinaryLayer or SoftmaxLayer or GraphInputLayer;

    private void Evaluate(Layer layer, double[][] values, double[] y, double[]? weights, double[][]? otherInputs)
    {
        double[] X(int k = 0) => values[layer.Inputs[k]];
        switch (layer)
        {
            case DenseLayer d: Dense(d, X(), y, weights!); break;
            case ConvLayer c: Conv(c, X(), y, weights!); break;
            case EmbeddingLayer e: Embedding(e, e.Indices is null ? X() : null, y, weights!); break;
            case PoolLayer p: Pool(p, X(), y); break;
            case GraphInputLayer g:
                double[] given = otherInputs is not null && g.Index < otherInputs.Length ? otherInputs[g.Index] : throw new ArgumentException("Graph input " + g.Index + " (" + g.Name + ") was not given.");
                Array.Copy(given, y, y.Length);
                break;
            case ReluLayer: { double[] x = X(); for (int i = 0; i < y.Length; i++) y[i] = Math.Max(x[i], 0); break; }
            case SoftmaxLayer s: Softmax(s, X(), y); break;
            case ReshapeLayer: Array.Copy(X(), y, y.Length); break;
            case UnaryLayer u: Unary(u, X(), y); break;
            case BinaryLayer b: Binary(b, values, y); break;
            case LayerNormLayer n: LayerNorm(n, X(), y); break;
            case InstanceNormLayer n: InstanceNorm(n, X(), y); break;
            case MatMulLayer m: MatMul(m, X(0), X(1), y); break;
            case TransposeLayer t: Transpose(t, X(), y); break;
            case ReduceLayer r: Reduce(r, X(), y); break;
            case ConcatLayer c: Concat(c, values, y); break;
            case AxisMapLayer a: AxisMap(a, X(), y); break;
            case WhereLayer w: Where(w, values, y); break;
            default: throw new NotSupportedException("The reference evaluator has no rule for " + layer.GetType().Name + ".");
        }
    }

    private static void Dense(DenseLayer d, double[] x, double[] y, double[] w)
    {
        int inputs = d.InputCount, outputs = d.Outputs;
        for (int r = 0; r < d.Rows; r++)
            for (int o = 0; o < outputs; o++)
                y[r * outputs + o] = d.Bias[o] + DoubleKernels.Dot(w, o * inputs, x, r * inputs, inputs);
    }

    /// <summary>
    /// The outputs o along one axis whose tap reads inside the input: o·stride + offset in [0, length), offset the
    /// tap's distance from the window's start less the padding. The rest read the zero border and add nothing.
    /// </summary>
    internal static (int First, int End) ValidOutputs(int length, int outputs, int stride, int offset)
    {
        int first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int end = length - 1 - offset < 0 ? 0 : Math.Min(outputs, (length - 1 - offset) / stride + 1);
        return (first, Math.Max(first, end));
    }

    /// <summary>A 1x1 convolution with stride 1 and no padding: each output plane is a weighted sum of whole input planes.</summary>
    private static bool IsPointwise(ConvLayer c)
    {
        Window k = c.Window;
        return k.Size == 1 && k.StrideD == 1 && k.StrideH == 1 && k.StrideW == 1 && k.PadFront == 0 && k.PadTop == 0 && k.PadLeft == 0
            && c.InD == c.OutD && c.InH == c.OutH && c.InW == c.OutW;
    }

    /// <summary>
    /// A convolution as one multiply-add of a row of input by one weight per (output channel, input channel, tap,
    /// output plane and row), over the output columns whose tap is inside the input, up to four output channels per
    /// input row; a pointwise one as whole planes (<see cref="ReferenceConvKernels"/>).
    /// </summary>
    private static void Conv(ConvLayer c, double[] x, double[] y, double[] w)
    {
        Window k = c.Window;
        int groupIn = c.GroupInChannels, groupOut = c.OutChannels / c.Groups;
        int inC = c.InChannels, inD = c.InD, inH = c.InH, inW = c.InW, outC = c.OutChannels, outD = c.OutD, outH = c.OutH, outW = c.OutW;
        int inPlane = inH * inW, outPlane = outH * outW, inVolume = inD * inPlane, outVolume = outD * outPlane;
        if (IsPointwise(c))
        {
            for (int n = 0; n < c.Images; n++)
                for (int g = 0; g < c.Groups; g++)
                {
                    int yAt = (n * outC + g * groupOut) * outVolume;
                    for (int o = 0; o < groupOut; o++)
                        for (int i = 0; i < outVolume; i++) y[yAt + o * outVolume + i] = c.Bias[g * groupOut + o];
                    ReferenceConvKernels.Forward(x, (n * inC + g * groupIn) * inVolume, y, yAt, w, g * groupOut * groupIn, groupOut, groupIn, outVolume);
                }
            return;
        }
        // Up to four output channels of a group at a time share each input row (an output's sum keeps its order: input
        // channels, then taps).
        for (int n = 0; n < c.Images; n++)
        for (int o = 0; o < outC; o += RowBlock(o, groupOut))
        {
            int rows = RowBlock(o, groupOut), yVolume = (n * outC + o) * outVolume, firstIn = o / groupOut * groupIn;
            for (int j = 0; j < rows; j++)
                for (int i = 0; i < outVolume; i++) y[yVolume + j * outVolume + i] = c.Bias[o + j];
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
                            int wi = tap + (kd * k.KernelH + ky) * k.KernelW + kx;
                            (int ox0, int ox1) = ValidOutputs(inW, outW, k.StrideW, kx * k.DilationW - k.PadLeft);
                            if (ox1 == ox0) continue;
                            for (int od = od0; od < od1; od++)
                            {
                                int id = od * k.StrideD + kd * k.DilationD - k.PadFront;
                                for (int oy = oy0; oy < oy1; oy++)
                                {
                                    int iy = oy * k.StrideH + ky * k.DilationH - k.PadTop;
                                    ReferenceConvKernels.ForwardRows(x, xVolume + id * inPlane + iy * inW + ox0 * k.StrideW + kx * k.DilationW - k.PadLeft, k.StrideW,
                                        y, yVolume + od * outPlane + oy * outW + ox0, outVolume, w, wi, groupIn * k.Size, rows, ox1 - ox0);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>How many output channels from <paramref name="o"/> a convolution's rules take together: up to four, never past the end of o's group.</summary>
    internal static int RowBlock(int o, int groupOut) => Math.Min(ReferenceConvKernels.Block, groupOut - o % groupOut);

    private static void Embedding(EmbeddingLayer e, double[]? indices, double[] y, double[] w)
    {
        for (int t = 0; t < e.Count; t++) Array.Copy(w, EmbeddingRow(e, indices, t) * e.Width, y, t * e.Width, e.Width);
    }

    /// <summary>
    /// The table row lookup <paramref name="t"/> reads: baked, or the index input's value. The reference reads any
    /// value as a row (its floor, modulo the rows, negatives from the end as ONNX does), so synthetic and calibration
    /// inputs stay in the table; the generated kernel refuses a value that is not a row.
    /// </summary>
    internal static int EmbeddingRow(EmbeddingLayer e, double[]? indices, int t)
    {
        if (e.Indices is { } baked) return baked[t];
        double value = Math.Floor(indices![t]);
        if (double.IsNaN(value) || double.IsInfinity(value)) return 0;
        double row = value % e.Rows;
        return (int)(row < 0 ? row + e.Rows : row);
    }

    private static void Pool(PoolLayer p, double[] x, double[] y)
    {
        Window k = p.Window;
        bool max = p.Kind == PoolKind.Max;
        int inD = p.InD, inH = p.InH, inW = p.InW, outD = p.OutD, outH = p.OutH, outW = p.OutW;
        var taps = new int[k.Size];
        // Every image's every channel is a volume of its own.
        for (int c = 0; c < p.Images * p.Channels; c++)
            for (int od = 0; od < outD; od++)
                for (int oy = 0; oy < outH; oy++)
                    for (int ox = 0; ox < outW; ox++)
                    {
                        double best = double.NegativeInfinity, sum = 0;
                        int count = PoolTaps(k, c, od, oy, ox, inD, inH, inW, taps);
                        for (int t = 0; t < count; t++)
                        {
                            double v = x[taps[t]];
                            best = Math.Max(best, v);
                            sum += v;
                        }
                        y[((c * outD + od) * outH + oy) * outW + ox] = max ? best : p.CountIncludePad ? sum / k.Size : count == 0 ? 0 : sum / count;
                    }
    }

    /// <summary>Writes the input indices of one pooling window's taps that lie inside the input, in tap order, into <paramref name="taps"/>; returns how many.</summary>
    internal static int PoolTaps(Window k, int c, int od, int oy, int ox, int inD, int inH, int inW, int[] taps)
    {
        int count = 0;
        for (int kd = 0; kd < k.KernelD; kd++)
        {
            int id = od * k.StrideD - k.PadFront + kd * k.DilationD;
            if (id < 0 || id >= inD) continue;
            for (int ky = 0; ky < k.KernelH; ky++)
            {
                int iy = oy * k.StrideH - k.PadTop + ky * k.DilationH;
                if (iy < 0 || iy >= inH) continue;
                for (int kx = 0; kx < k.KernelW; kx++)
                {
                    int ix = ox * k.StrideW - k.PadLeft + kx * k.DilationW;
                    if (ix >= 0 && ix < inW) taps[count++] = ((c * inD + id) * inH + iy) * inW + ix;
                }
            }
        }
        return count;
    }

    private static void Unary(UnaryLayer u, double[] x, double[] y)
    {
        switch (u.Kind)
        {
            // The activations of mobile networks, in loops of their own (the rule inlined, no switch per element).
            case UnaryKind.Clip:
            {
                double low = u.Alpha, high = u.Beta;
                for (int i = 0; i < y.Length; i++) y[i] = Math.Min(Math.Max(x[i], low), high);
                break;
            }
            case UnaryKind.HardSwish:
                for (int i = 0; i < y.Length; i++) y[i] = x[i] * Math.Max(0, Math.Min(1, x[i] / 6 + 0.5));
                break;
            case UnaryKind.HardSigmoid:
            {
                double alpha = u.Alpha, beta = u.Beta;
                for (int i = 0; i < y.Length; i++) y[i] = Math.Max(0, Math.Min(1, alpha * x[i] + beta));
                break;
            }
            default:
                for (int i = 0; i < y.Length; i++) y[i] = Unary(u, x[i]);
                break;
        }
    }

    private static double Unary(UnaryLayer u, double x) => u.Kind switch
    {
        UnaryKind.Erf => ReferenceMath.Erf(x),
        UnaryKind.Gelu => 0.5 * x * (1 + ReferenceMath.Erf(x / Math.Sqrt(2))),
        UnaryKind.Sqrt => Math.Sqrt(x),
        UnaryKind.Tanh => Math.Tanh(x),
        UnaryKind.Sigmoid => 1 / (1 + Math.Exp(-x)),
        UnaryKind.Exp => Math.Exp(x),
        UnaryKind.Neg => -x,
        UnaryKind.Abs => Math.Abs(x),
        UnaryKind.Reciprocal => 1 / x,
        UnaryKind.Log => Math.Log(x),
        UnaryKind.LeakyRelu => x >= 0 ? x : u.Alpha * x,
        UnaryKind.Elu => x > 0 ? x : u.Alpha * (Math.Exp(x) - 1),
        UnaryKind.Selu => u.Beta * (x > 0 ? x : u.Alpha * (Math.Exp(x) - 1)),
        UnaryKind.Softplus => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x))),
        UnaryKind.Softsign => x / (1 + Math.Abs(x)),
        UnaryKind.HardSigmoid => Math.Max(0, Math.Min(1, u.Alpha * x + u.Beta)),
        UnaryKind.HardSwish => x * Math.Max(0, Math.Min(1, x / 6 + 0.5)),
        UnaryKind.Clip => Math.Min(Math.Max(x, u.Alpha), u.Beta),
        UnaryKind.Not => x == 0 ? 1 : 0,
        UnaryKind.RoundToHalf => ReferenceMath.RoundToHalf(x),
        _ => throw new NotSupportedException("The reference evaluator has no rule for " + u.Kind + "."),
    };

    private static double Binary(BinaryKind kind, double l, double r) => kind switch
    {
        BinaryKind.Add => l + r,
        BinaryKind.Sub => l - r,
        BinaryKind.Mul => l * r,
        BinaryKind.Div => l / r,
        BinaryKind.Pow => Math.Pow(l, r),
        BinaryKind.Max => Math.Max(l, r),
        BinaryKind.Min => Math.Min(l, r),
        BinaryKind.PRelu => l >= 0 ? l : l * r,
        BinaryKind.Equal => l == r ? 1 : 0,
        BinaryKind.Greater => l > r ? 1 : 0,
        BinaryKind.Less => l < r ? 1 : 0,
        BinaryKind.GreaterOrEqual => l >= r ? 1 : 0,
        BinaryKind.LessOrEqual => l <= r ? 1 : 0,
        BinaryKind.And => l != 0 && r != 0 ? 1 : 0,
        BinaryKind.Or => l != 0 || r != 0 ? 1 : 0,
        _ => (l != 0) != (r != 0) ? 1 : 0,   // Xor
    };

    private double[] Read(Operand operand, double[][] values)
    {
        if (!operand.IsConstant) return values[operand.Value];
        return _constants.GetOrAdd(operand, o => Array.ConvertAll(o.Constant!, v => (double)v));
    }

    /// <summary>
    /// For each output index of shape <paramref name="output"/> in order, the flat index a value of the given strides
    /// (<see cref="Shape.BroadcastStrides"/>) holds there: counted like an odometer (the last axis fastest), not divided
    /// out per element (a recogniser's maps are millions of indices; a division per axis each measured a second of its
    /// calibration).
    /// </summary>
    internal static int[] BroadcastMap(int[] strides, int[] output)
    {
        int length = Shape.Length(output), rank = output.Length;
        var indices = new int[length];
        var counter = new int[rank];
        int index = 0;
        for (int i = 0; i < length; i++)
        {
            indices[i] = index;
            // The next output index: the last axis steps; an axis that wraps resets and carries into the one before.
            for (int d = rank - 1; d >= 0; d--)
            {
                index += strides[d];
                if (++counter[d] < output[d]) break;
                index -= strides[d] * output[d];
                counter[d] = 0;
            }
        }
        return indices;
    }

    /// <summary>For each output index of <paramref name="layer"/>, the index it reads in <paramref name="operand"/>; null where that is the same index (equal shapes).</summary>
    private int[]? Broadcast(Operand operand, Layer layer)
    {
        int[] map = _broadcasts.GetOrAdd((operand, layer), key =>
        {
            if (key.Item1.Length == key.Item2.OutputLength) return SameIndex;
            return BroadcastMap(Shape.BroadcastStrides(key.Item1.Shape, key.Item2.OutputShape), key.Item2.OutputShape);
        });
        return ReferenceEquals(map, SameIndex) ? null : map;
    }

    /// <summary>How a binary layer's two operands are read along its output, made on first use.</summary>
    private BroadcastRuns Runs(BinaryLayer b) =>
        _runs.GetOrAdd(b, layer => BroadcastRuns.Of(new[] { b.Left.Shape, b.Right.Shape }, layer.OutputShape));

    private void Binary(BinaryLayer b, double[][] values, double[] y)
    {
        double[] l = Read(b.Left, values), r = Read(b.Right, values);
        BroadcastRuns runs = Runs(b);
        // The arithmetic the networks are made of gets a loop of its own; the rest share one that switches per element.
        switch (b.Kind)
        {
            case BinaryKind.Add: Apply(default(AddRule), l, r, runs, y); break;
            case BinaryKind.Sub: Apply(default(SubtractRule), l, r, runs, y); break;
            case BinaryKind.Mul: Apply(default(MultiplyRule), l, r, runs, y); break;
            case BinaryKind.Div: Apply(default(DivideRule), l, r, runs, y); break;
            default: Apply(new AnyRule(b.Kind), l, r, runs, y); break;
        }
    }

    /// <summary>
    /// One binary rule; a struct, so each loop of <see cref="Apply"/> is compiled for it with the rule inlined. The
    /// arithmetic rules also apply to whole vectors, lane by lane: IEEE operations, the same bits as one at a time.
    /// </summary>
    private interface IBinaryRule
    {
        bool Vectorizes { get; }
        double Of(double l, double r);
        Vector<double> Of(Vector<double> l, Vector<double> r);
    }
    private readonly struct AddRule : IBinaryRule
    {
        public bool Vectorizes => true;
        public double Of(double l, double r) => l + r;
        public Vector<double> Of(Vector<double> l, Vector<double> r) => l + r;
    }
    private readonly struct SubtractRule : IBinaryRule
    {
        public bool Vectorizes => true;
        public double Of(double l, double r) => l - r;
        public Vector<double> Of(Vector<double> l, Vector<double> r) => l - r;
    }
    private readonly struct MultiplyRule : IBinaryRule
    {
        public bool Vectorizes => true;
        public double Of(double l, double r) => l * r;
        public Vector<double> Of(Vector<double> l, Vector<double> r) => l * r;
    }
    private readonly struct DivideRule : IBinaryRule
    {
        public bool Vectorizes => true;
        public double Of(double l, double r) => l / r;
        public Vector<double> Of(Vector<double> l, Vector<double> r) => l / r;
    }
    private readonly struct AnyRule : IBinaryRule
    {
        private readonly BinaryKind _kind;
        public AnyRule(BinaryKind kind) => _kind = kind;
        public bool Vectorizes => false;
        public double Of(double l, double r) => Binary(_kind, l, r);
        public Vector<double> Of(Vector<double> l, Vector<double> r) => throw new NotSupportedException();
    }

    /// <summary>y = rule(l, r) broadcast, chunk by chunk of <paramref name="runs"/>: each side a run of values or one value repeated.</summary>
    private static void Apply<TRule>(TRule rule, double[] l, double[] r, BroadcastRuns runs, double[] y) where TRule : struct, IBinaryRule
    {
        int run = runs.Run;
        bool leftSteps = runs.Steps(0), rightSteps = runs.Steps(1);
        bool vectors = rule.Vectorizes && Vector.IsHardwareAccelerated && run >= Vector<double>.Count;
        int lanes = Vector<double>.Count, whole = vectors ? run - run % lanes : 0;
        for (int chunk = 0, at = 0; chunk < runs.Chunks; chunk++, at += run)
        {
            int li = runs.Start(0, chunk), ri = runs.Start(1, chunk), j = 0;
            if (leftSteps && rightSteps)
            {
                for (; j < whole; j += lanes) rule.Of(new Vector<double>(l, li + j), new Vector<double>(r, ri + j)).CopyTo(y, at + j);
                for (; j < run; j++) y[at + j] = rule.Of(l[li + j], r[ri + j]);
            }
            else if (leftSteps)
            {
                double right = r[ri];
                var rights = new Vector<double>(right);
                for (; j < whole; j += lanes) rule.Of(new Vector<double>(l, li + j), rights).CopyTo(y, at + j);
                for (; j < run; j++) y[at + j] = rule.Of(l[li + j], right);
            }
            else if (rightSteps)
            {
                double left = l[li];
                var lefts = new Vector<double>(left);
                for (; j < whole; j += lanes) rule.Of(lefts, new Vector<double>(r, ri + j)).CopyTo(y, at + j);
                for (; j < run; j++) y[at + j] = rule.Of(left, r[ri + j]);
            }
            else
            {
                double value = rule.Of(l[li], r[ri]);
                for (; j < run; j++) y[at + j] = value;
            }
        }
    }

    private void Where(WhereLayer w, double[][] values, double[] y)
    {
        double[] c = Read(w.Condition, values), t = Read(w.WhenTrue, values), f = Read(w.WhenFalse, values);
        int[]? cs = Broadcast(w.Condition, w), ts = Broadcast(w.WhenTrue, w), fs = Broadcast(w.WhenFalse, w);
        for (int i = 0; i < y.Length; i++) y[i] = c[cs?[i] ?? i] != 0 ? t[ts?[i] ?? i] : f[fs?[i] ?? i];
    }

    private static void Softmax(SoftmaxLayer s, double[] x, double[] y)
    {
        for (int r = 0; r < s.Rows; r++)
        {
            int at = r * s.Length;
            double max = double.NegativeInfinity, sum = 0;
            for (int i = 0; i < s.Length; i++) max = Math.Max(max, x[at + i]);
            for (int i = 0; i < s.Length; i++) sum += Math.Exp(x[at + i] - max);
            for (int i = 0; i < s.Length; i++) y[at + i] = s.Log ? x[at + i] - max - Math.Log(sum) : Math.Exp(x[at + i] - max) / sum;
        }
    }

    private static void LayerNorm(LayerNormLayer n, double[] x, double[] y)
    {
        for (int r = 0; r < n.Rows; r++)
        {
            int at = r * n.Length;
            Standardize(x, y, at, n.Length, n.Epsilon);
            for (int i = 0; i < n.Length; i++) y[at + i] = y[at + i] * n.Gamma[i % n.Gamma.Length] + (n.Beta.Length == 0 ? 0 : n.Beta[i % n.Beta.Length]);
        }
    }

    private static void InstanceNorm(InstanceNormLayer n, double[] x, double[] y)
    {
        for (int p = 0; p < n.Planes; p++)
        {
            int at = p * n.Plane, c = p % n.Channels;
            Standardize(x, y, at, n.Plane, n.Epsilon);
            for (int i = 0; i < n.Plane; i++) y[at + i] = y[at + i] * n.Scale[c] + n.Bias[c];
        }
    }

    /// <summary>y = (x − mean) / √(variance + ε) over the <paramref name="length"/> values from <paramref name="at"/> (the population variance, as ONNX normalizations use).</summary>
    private static void Standardize(double[] x, double[] y, int at, int length, double epsilon)
    {
        double mean = 0, variance = 0;
        for (int i = 0; i < length; i++) mean += x[at + i];
        mean /= length;
        for (int i = 0; i < length; i++) variance += (x[at + i] - mean) * (x[at + i] - mean);
        double inverse = 1 / Math.Sqrt(variance / length + epsilon);
        for (int i = 0; i < length; i++) y[at + i] = (x[at + i] - mean) * inverse;
    }

    private static void MatMul(MatMulLayer m, double[] a, double[] b, double[] y)
    {
        int rows = m.M, inner = m.K, columns = m.N;
        bool shared = m.RightIsShared;
        for (int batch = 0; batch < m.Batch; batch++)
        {
            int left = batch * rows * inner, right = shared ? 0 : batch * inner * columns, result = batch * rows * columns;
            Array.Clear(y, result, rows * columns);
            for (int i = 0; i < rows; i++)
                for (int k = 0; k < inner; k++)
                {
                    double factor = a[left + i * inner + k];
                    if (factor != 0) DoubleKernels.Axpy(factor, b, right + k * columns, y, result + i * columns, columns);
                }
        }
    }

    private static void Transpose(TransposeLayer t, double[] x, double[] y)
    {
        int[] inStrides = Shape.BroadcastStrides(t.InputShape, t.InputShape);
        for (int o = 0; o < y.Length; o++) y[o] = x[TransposeSource(t, inStrides, o)];
    }

    /// <summary>The input index output <paramref name="o"/> of a transpose reads (the forward rule and its adjoint share it).</summary>
    private static int TransposeSource(TransposeLayer t, int[] inStrides, int o)
    {
        int[] output = t.OutputShape;
        int rest = o, source = 0;
        for (int d = output.Length - 1; d >= 0; d--)
        {
            source += rest % output[d] * inStrides[t.Perm[d]];
            rest /= output[d];
        }
        return source;
    }

    private static void Reduce(ReduceLayer r, double[] x, double[] y)
    {
        for (int outer = 0; outer < r.Outer; outer++)
            for (int inner = 0; inner < r.Inner; inner++)
            {
                double acc = r.Kind switch { ReduceKind.Max => double.NegativeInfinity, ReduceKind.Min => double.PositiveInfinity, _ => 0 };
                for (int k = 0; k < r.Reduced; k++)
                {
                    double v = x[(outer * r.Reduced + k) * r.Inner + inner];
                    acc = r.Kind switch { ReduceKind.Max => Math.Max(acc, v), ReduceKind.Min => Math.Min(acc, v), _ => acc + v };
                }
                y[outer * r.Inner + inner] = r.Kind == ReduceKind.Mean ? acc / r.Reduced : acc;
            }
    }

    private void Concat(ConcatLayer c, double[][] values, double[] y)
    {
        double[][] parts = c.Parts.Select(p => Read(p, values)).ToArray();
        int at = 0;
        for (int outer = 0; outer < c.Outer; outer++)
            for (int k = 0; k < parts.Length; k++)
            {
                int chunk = c.Chunk(c.Parts[k]);
                Array.Copy(parts[k], outer * chunk, y, at, chunk);
                at += chunk;
            }
    }

    private static void AxisMap(AxisMapLayer a, double[] x, double[] y)
    {
        int[] inStrides = Shape.BroadcastStrides(a.InputShape, a.InputShape);
        for (int o = 0; o < y.Length; o++)
        {
            int source = AxisMapSource(a, inStrides, o);
            y[o] = source < 0 ? a.Fill : x[source];
        }
    }

    /// <summary>The input index output <paramref name="o"/> of an axis map copies, or −1 where it holds the fill value (the forward rule and its adjoint share it).</summary>
    private static int AxisMapSource(AxisMapLayer a, int[] inStrides, int o)
    {
        int[] output = a.OutputShape;
        int rest = o, source = 0;
        bool fill = false;
        for (int d = output.Length - 1; d >= 0; d--)
        {
            int from = a.Sources[d][rest % output[d]];
            rest /= output[d];
            if (from < 0) fill = true;
            else source += from * inStrides[d];
        }
        return fill ? -1 : source;
    }
}
