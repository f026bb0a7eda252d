namespace Qtaml.Train;

/// <summary>
/// A per-channel affine map y = a_c·x + b_c: BatchNormalization as inference computes it. Trained as that affine map
/// (the trainer takes one sample at a time, so there are no batch statistics to normalize by); exported as a
/// BatchNormalization node whose mean and variance are the statistics of its input over training digits, with scale
/// and shift chosen so the node computes exactly the trained map.
/// </summary>
internal sealed class ChannelAffine : Layer
{
    private readonly int[] _shape;

    public ChannelAffine(int channels, int height, int width)
    {
        _shape = new[] { channels, height, width };
        Weights = Enumerable.Repeat(1f, channels).ToArray();   // a_c
        Bias = new float[channels];                            // b_c
    }

    public int Channels => _shape[0];
    private int Plane => _shape[1] * _shape[2];
    public override string Kind => "BatchNormalization";
    public override int[] OutputShape => _shape;

    public override void Forward(float[] x, float[] y)
    {
        for (int c = 0; c < Channels; c++)
            for (int i = c * Plane; i < (c + 1) * Plane; i++) y[i] = Weights[c] * x[i] + Bias[c];
    }

    public override void Backward(float[] x, float[] y, float[] dy, float[] dx, float[] dW, float[] dB)
    {
        for (int c = 0; c < Channels; c++)
            for (int i = c * Plane; i < (c + 1) * Plane; i++)
            {
                dW[c] += dy[i] * x[i];
                dB[c] += dy[i];
                dx[i] = Weights[c] * dy[i];
            }
    }
}

/// <summary>
/// A residual connection: y = x + the output of an earlier layer (<see cref="From"/>; −1 for the network's input). The
/// trainer's workspace hands it that activation, and adds its output gradient to that layer's on the way back.
/// </summary>
internal sealed class AddSkip : Layer
{
    private readonly int[] _shape;

    public AddSkip(int from, int[] shape) => (From, _shape) = (from, shape);

    /// <summary>The layer whose output is added (its index in the network).</summary>
    public int From { get; }

    public override string Kind => "Add";
    public override int[] OutputShape => _shape;

    public override void Forward(float[] x, float[] y) => throw new InvalidOperationException("A residual add needs the skipped activation: use Forward(x, skip, y).");

    public void Forward(float[] x, float[] skip, float[] y)
    {
        for (int i = 0; i < OutputLength; i++) y[i] = x[i] + skip[i];
    }

    /// <summary>dx = dy; the same dy goes to the skipped layer's output (the workspace adds it there).</summary>
    public override void Backward(float[] x, float[] y, float[] dy, float[] dx, float[] dW, float[] dB) => Array.Copy(dy, dx, OutputLength);
}
