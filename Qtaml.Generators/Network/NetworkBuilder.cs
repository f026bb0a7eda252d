using System.Collections.Generic;
using System.Linq;

namespace Qtaml.Generators.Network;

/// <summary>
/// Builds a <see cref="NetworkGraph"/> layer by layer, tracking the running shape and checking each layer
/// against it; the weight-file readers (ONNX, safetensors) only translate their format into these calls.
/// Every failure is a <see cref="ModelReadException"/> naming the layer.
/// </summary>
internal sealed class NetworkBuilder
{
    private readonly string _path;
    private readonly int[] _inputShape;
    private readonly List<Layer> _layers = new();

    public NetworkBuilder(string path, int[] inputShape)
    {
        _path = path;
        _inputShape = inputShape;
        Shape = inputShape;
    }

    /// <summary>The shape the next layer receives.</summary>
    public int[] Shape { get; private set; }

    public ModelReadException Mismatch(string layer, string reason) => new(Diagnostics.ShapeMismatch, _path, layer, reason);

    public NetworkGraph Build() => new(_inputShape, _layers.ToArray());

    private void Add(Layer layer)
    {
        _layers.Add(layer);
        Shape = layer.OutputShape;
    }

    /// <summary>y = W·x + b with W given as [outputs, inputs], row-major.</summary>
    public void Dense(string name, string op, float[] weights, int outputs, int inputs, float[]? bias)
    {
        if (Shape.Length != 1) throw Mismatch(name, op + " needs a flat input but gets " + Network.Shape.Format(Shape) + "; add a Flatten");
        if (inputs != Shape[0]) throw Mismatch(name, "the " + op + " weight expects " + inputs + " inputs but the previous layer gives " + Shape[0]);
        if (weights.Length != (long)outputs * inputs) throw Mismatch(name, "the " + op + " weight does not hold " + outputs + " x " + inputs + " values");
        if (bias is not null && bias.Length != outputs) throw Mismatch(name, "the " + op + " bias has " + bias.Length + " values but there are " + outputs + " outputs");
        Add(new DenseLayer(name, op, inputs, outputs, weights, bias ?? new float[outputs]));
    }

    /// <summary>A 2-D convolution with weights [OutC, InC, KH, KW]; pads as (top, left, bottom, right).</summary>
    public void Conv(string name, float[] weights, int[] dims, float[]? bias, int strideH, int strideW, int[] pads)
    {
        if (Shape.Length != 3) throw Mismatch(name, "Conv needs a (channels, height, width) input but gets " + Network.Shape.Format(Shape));
        if (dims.Length != 4 || dims[1] != Shape[0]) throw Mismatch(name, "the Conv weight has shape " + Network.Shape.Format(dims) + " but the input has " + Shape[0] + " channels");
        if (strideH < 1 || strideW < 1) throw Mismatch(name, "Conv strides must be positive");
        int outC = dims[0];
        var window = new Window(dims[2], dims[3], strideH, strideW, pads[0], pads[1]);
        (int outH, int outW) = OutputSize(name, "Conv", window, pads);
        if (bias is not null && bias.Length != outC) throw Mismatch(name, "the Conv bias has " + bias.Length + " values but there are " + outC + " output channels");
        Add(new ConvLayer(name, Shape, outC, window, outH, outW, weights, bias ?? new float[outC]));
    }

    public void Pool(string name, PoolKind kind, int kernelH, int kernelW, int strideH, int strideW, int[] pads, bool countIncludePad)
    {
        string op = kind == PoolKind.Max ? "MaxPool" : "AveragePool";
        if (Shape.Length != 3) throw Mismatch(name, op + " needs a (channels, height, width) input but gets " + Network.Shape.Format(Shape));
        if (kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1) throw Mismatch(name, "the pooling kernel and strides must be positive");
        var window = new Window(kernelH, kernelW, strideH, strideW, pads[0], pads[1]);
        (int outH, int outW) = OutputSize(name, op, window, pads);
        Add(new PoolLayer(name, kind, Shape, window, outH, outW, countIncludePad));
    }

    /// <summary>Where a window fits in the padded input (pads as top, left, bottom, right).</summary>
    private (int, int) OutputSize(string name, string op, Window window, int[] pads)
    {
        if (pads.Length != 4 || pads.Any(p => p < 0 || p > 1 << 16)) throw Mismatch(name, op + " pads must be four values between 0 and 65536");
        long outH = ((long)Shape[1] + pads[0] + pads[2] - window.KernelH) / window.StrideH + 1;
        long outW = ((long)Shape[2] + pads[1] + pads[3] - window.KernelW) / window.StrideW + 1;
        if (window.KernelH < 1 || window.KernelW < 1 || outH < 1 || outW < 1) throw Mismatch(name, "the " + op + " kernel is larger than its padded input");
        return ((int)outH, (int)outW);
    }

    public void Relu(string name) => Add(new ReluLayer(name, Shape));

    public void Softmax(string name)
    {
        if (Shape.Length != 1) throw Mismatch(name, "Softmax is supported over a flat vector; flatten first");
        Add(new SoftmaxLayer(name, Shape));
    }

    public void Flatten(string name, string op = "Flatten") => Add(new ReshapeLayer(name, op, Shape, new[] { Network.Shape.Length(Shape) }));

    public void Reshape(string name, int[] shape) => Add(new ReshapeLayer(name, "Reshape", Shape, shape));

    /// <summary>The weight layer the next affine fold (a bias Add, a batch normalization) applies to.</summary>
    public WeightLayer PreviousWeightLayer(string name, string what)
    {
        if (_layers.Count == 0 || _layers[_layers.Count - 1] is not WeightLayer previous)
            throw Mismatch(name, what + " is folded into the Conv or Gemm right before it, and there is none");
        return previous;
    }

    /// <summary>Folds y' = (y − mean)·γ/√(var + ε) + β into the previous weight layer.</summary>
    public void FoldBatchNormalization(string name, float[] gamma, float[] beta, float[] mean, float[] variance, float epsilon)
    {
        WeightLayer previous = PreviousWeightLayer(name, "BatchNormalization");
        int channels = previous.Channels;
        if (gamma.Length != channels || beta.Length != channels || mean.Length != channels || variance.Length != channels)
            throw Mismatch(name, "BatchNormalization has parameters for a different number of channels than the " + previous.Channels + " before it");
        var a = new float[channels];
        var c = new float[channels];
        for (int ch = 0; ch < channels; ch++)
        {
            if (!(variance[ch] + epsilon > 0)) throw Mismatch(name, "a BatchNormalization variance plus epsilon is not positive");
            a[ch] = (float)(gamma[ch] / System.Math.Sqrt(variance[ch] + epsilon));
            c[ch] = beta[ch] - a[ch] * mean[ch];
        }
        previous.FoldAffine(a, c);
    }
}
