namespace Qtaml.Train;

/// <summary>
/// A layer of a small sequential network for training: parameters live here, activations and gradients in
/// the caller's buffers, so two threads can run forward and backward passes over the same parameters at once.
/// </summary>
internal abstract class Layer
{
    public abstract string Kind { get; }
    public abstract int[] OutputShape { get; }
    public int OutputLength => OutputShape.Aggregate(1, (a, b) => a * b);
    public float[] Weights { get; protected init; } = Array.Empty<float>();
    public float[] Bias { get; protected init; } = Array.Empty<float>();

    public abstract void Forward(float[] x, float[] y);

    /// <summary>Adds this sample's parameter gradients to dW, dB and writes dL/dx (dx is cleared first).</summary>
    public abstract void Backward(float[] x, float[] y, float[] dy, float[] dx, float[] dW, float[] dB);

    protected static void HeInit(float[] w, int fanIn, Random random)
    {
        double limit = Math.Sqrt(6.0 / fanIn);
        for (int i = 0; i < w.Length; i++) w[i] = (float)((random.NextDouble() * 2 - 1) * limit);
    }
}

internal sealed class Dense : Layer
{
    public Dense(int inputs, int outputs, Random random)
    {
        Inputs = inputs;
        Outputs = outputs;
        Weights = new float[inputs * outputs];   // [out, in]
        Bias = new float[outputs];
        HeInit(Weights, inputs, random);
    }

    public int Inputs { get; }
    public int Outputs { get; }
    public override string Kind => "Dense";
    public override int[] OutputShape => new[] { Outputs };

    public override void Forward(float[] x, float[] y)
    {
        for (int o = 0; o < Outputs; o++)
        {
            float sum = Bias[o];
            int row = o * Inputs;
            for (int i = 0; i < Inputs; i++) sum += Weights[row + i] * x[i];
            y[o] = sum;
        }
    }

    public override void Backward(float[] x, float[] y, float[] dy, float[] dx, float[] dW, float[] dB)
    {
        Array.Clear(dx, 0, Inputs);
        for (int o = 0; o < Outputs; o++)
        {
            float g = dy[o];
            if (g == 0) continue;
            dB[o] += g;
            int row = o * Inputs;
            for (int i = 0; i < Inputs; i++)
            {
                dW[row + i] += g * x[i];
                dx[i] += g * Weights[row + i];
            }
        }
    }
}

/// <summary>
/// A 2-D convolution, square kernel, with stride and groups (groups = channels: depthwise). Weights
/// [out, in / groups, k, k], as ONNX stores them.
/// </summary>
internal sealed class Conv : Layer
{
    public Conv(int inChannels, int height, int width, int outChannels, int kernel, int pad, Random random, int stride = 1, int groups = 1)
    {
        if (inChannels % groups != 0 || outChannels % groups != 0) throw new ArgumentException("groups must divide the channels");
        (InChannels, InH, InW, OutChannels, Kernel, Pad, Stride, Groups) = (inChannels, height, width, outChannels, kernel, pad, stride, groups);
        OutH = (height + 2 * pad - kernel) / stride + 1;
        OutW = (width + 2 * pad - kernel) / stride + 1;
        Weights = new float[outChannels * GroupIn * kernel * kernel];   // [out, in / groups, k, k]
        Bias = new float[outChannels];
        HeInit(Weights, GroupIn * kernel * kernel, random);
    }

    public int InChannels { get; }
    public int InH { get; }
    public int InW { get; }
    public int OutChannels { get; }
    public int Kernel { get; }
    public int Pad { get; }
    public int Stride { get; }
    public int Groups { get; }
    public int OutH { get; }
    public int OutW { get; }

    /// <summary>The input channels each output channel reads.</summary>
    public int GroupIn => InChannels / Groups;

    public override string Kind => "Conv";
    public override int[] OutputShape => new[] { OutChannels, OutH, OutW };

    /// <summary>The first input channel output channel <paramref name="oc"/> reads.</summary>
    private int FirstInput(int oc) => oc / (OutChannels / Groups) * GroupIn;

    public override void Forward(float[] x, float[] y)
    {
        for (int oc = 0; oc < OutChannels; oc++)
        for (int oy = 0; oy < OutH; oy++)
        for (int ox = 0; ox < OutW; ox++)
        {
            float sum = Bias[oc];
            for (int j = 0; j < GroupIn; j++)
            for (int ky = 0; ky < Kernel; ky++)
            {
                int iy = oy * Stride - Pad + ky, ic = FirstInput(oc) + j;
                if (iy < 0 || iy >= InH) continue;
                int wRow = ((oc * GroupIn + j) * Kernel + ky) * Kernel, xRow = (ic * InH + iy) * InW;
                for (int kx = 0; kx < Kernel; kx++)
                {
                    int ix = ox * Stride - Pad + kx;
                    if (ix >= 0 && ix < InW) sum += Weights[wRow + kx] * x[xRow + ix];
                }
            }
            y[(oc * OutH + oy) * OutW + ox] = sum;
        }
    }

    public override void Backward(float[] x, float[] y, float[] dy, float[] dx, float[] dW, float[] dB)
    {
        Array.Clear(dx, 0, InChannels * InH * InW);
        for (int oc = 0; oc < OutChannels; oc++)
        for (int oy = 0; oy < OutH; oy++)
        for (int ox = 0; ox < OutW; ox++)
        {
            float g = dy[(oc * OutH + oy) * OutW + ox];
            if (g == 0) continue;
            dB[oc] += g;
            for (int j = 0; j < GroupIn; j++)
            for (int ky = 0; ky < Kernel; ky++)
            {
                int iy = oy * Stride - Pad + ky, ic = FirstInput(oc) + j;
                if (iy < 0 || iy >= InH) continue;
                int wRow = ((oc * GroupIn + j) * Kernel + ky) * Kernel, xRow = (ic * InH + iy) * InW;
                for (int kx = 0; kx < Kernel; kx++)
                {
                    int ix = ox * Stride - Pad + kx;
                    if (ix < 0 || ix >= InW) continue;
                    dW[wRow + kx] += g * x[xRow + ix];
                    dx[xRow + ix] += g * Weights[wRow + kx];
                }
            }
        }
    }
}

internal sealed class MaxPool2 : Layer
{
    public MaxPool2(int channels, int height, int width) => (Channels, InH, InW) = (channels, height, width);

    public int Channels { get; }
    public int InH { get; }
    public int InW { get; }
    public override string Kind => "MaxPool";
    public override int[] OutputShape => new[] { Channels, InH / 2, InW / 2 };

    public override void Forward(float[] x, float[] y)
    {
        int oh = InH / 2, ow = InW / 2;
        for (int c = 0; c < Channels; c++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
            y[(c * oh + oy) * ow + ox] = Math.Max(
                Math.Max(x[(c * InH + 2 * oy) * InW + 2 * ox], x[(c * InH + 2 * oy) * InW + 2 * ox + 1]),
                Math.Max(x[(c * InH + 2 * oy + 1) * InW + 2 * ox], x[(c * InH + 2 * oy + 1) * InW + 2 * ox + 1]));
    }

    public override void Backward(float[] x, float[] y, float[] dy, float[] dx, float[] dW, float[] dB)
    {
        int oh = InH / 2, ow = InW / 2;
        Array.Clear(dx, 0, Channels * InH * InW);
        for (int c = 0; c < Channels; c++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            int o = (c * oh + oy) * ow + ox;
            // The gradient goes to the first input that equals the maximum.
            for (int k = 0; k < 4; k++)
            {
                int at = (c * InH + 2 * oy + k / 2) * InW + 2 * ox + k % 2;
                if (x[at] == y[o]) { dx[at] += dy[o]; break; }
            }
        }
    }
}

internal sealed class Relu : Layer
{
    private readonly int[] _shape;

    public Relu(int[] shape) => _shape = shape;

    public override string Kind => "Relu";
    public override int[] OutputShape => _shape;

    public override void Forward(float[] x, float[] y)
    {
        for (int i = 0; i < OutputLength; i++) y[i] = x[i] > 0 ? x[i] : 0;
    }

    public override void Backward(float[] x, float[] y, float[] dy, float[] dx, float[] dW, float[] dB)
    {
        for (int i = 0; i < OutputLength; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
    }
}

internal sealed class Flatten : Layer
{
    private readonly int _length;

    public Flatten(int length) => _length = length;

    public override string Kind => "Flatten";
    public override int[] OutputShape => new[] { _length };
    public override void Forward(float[] x, float[] y) => Array.Copy(x, y, _length);
    public override void Backward(float[] x, float[] y, float[] dy, float[] dx, float[] dW, float[] dB) => Array.Copy(dy, dx, _length);
}
