using Qtaml.Generators.Tests.Support;
using Qtaml.Tools;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// Every operator added for third-party models (activations, PRelu, Clip/ReLU6, Log, variadic Max/Min/Sum/Mean,
/// LogSoftmax, reductions over several axes, global pooling, Squeeze/Unsqueeze, Pad, Slice, Tile, Split,
/// InstanceNormalization, Cast), each between a convolution and a
/// dense layer so the quantized build has weights on both sides, against ONNX Runtime: float builds within 1e-4,
/// 8-bit builds against ONNX Runtime on the same dequantized weights, also within 1e-4 (float rounding only).
/// </summary>
public class OperatorComparisonTests
{
    private const int Inputs = 8;

    public static TheoryData<string> Operators => new()
    {
        "LeakyRelu", "PRelu", "Elu", "Selu", "Softplus", "Softsign", "HardSigmoid", "HardSwish", "Clip", "Relu6", "Log",
        "Max", "Min", "Sum", "Mean", "LogSoftmax", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceMean",
        "GlobalAveragePool", "GlobalMaxPool", "SqueezeUnsqueeze",
        "PadConstant", "PadReflect", "PadEdge", "Slice", "Tile", "Split", "InstanceNormalization", "Cast",
        "ConvTranspose", "ConvTransposeGrouped", "ConvTransposeTiles", "ConvTransposeTilesGrouped", "ConvTransposeTiles1d", "MaxPoolDilated", "CompareWhere", "EqualOrXor", "CastFloat16",
        "ClipInfinite", "CastBool", "TransposeBatchAxis", "LayerNormalizationAxis1", "ReshapeCopiesDims", "LRN", "LRNSize5", "MaxPoolCeil", "AveragePoolCeil",
        "ResizeNearest", "ResizeNearestAsymmetricFloor", "ResizeLinearSizes", "ResizeLinearAlignCorners", "ResizeLinearPytorchHalfPixel",
        "ClipComputedMin", "GatherValueAxis1", "GatherValueScalarIndex", "SizeOfValue",
        "Conv3dMaxPool3d", "Conv3dGroupedAveragePool3d",
        "UnaryChain", "BatchNormalizationSoftmax", "ShapeArithmetic", "MatMulGelu", "LstmThenGru", "IfComputed",
        "HardSwishChain", "ChainWithAnOutsideReader", "ConvGroupsOfTen", "ConvGroupsOfEighteen", "ConvGroupsOfFifty", "FireModule", "FireModuleInPlace", "AveragePoolPlanes", "MaxPoolPlanes",
        "MaxPoolPlanesStrided", "MaxPoolPlanesStridedWide", "PowOfEveryBase",
        "ChannelShuffle", "ChannelShuffleReadInPlanes", "ChannelShuffleIntoDepthwise", "ChannelShuffleIntoStridedDepthwise", "ChannelShuffleReadTwice", "ConcatThenRelu", "ConcatThenReluInPlace", "ConcatThenReluPlanes", "SqueezeExcitation", "PerChannelSubtractAddRelu",
    };

    private static readonly long[] InputShape = { 1, 4, 6, 6 };

    /// <summary>Conv(4 → 8, 3×3, same size) → the operator → Flatten → Gemm to 10 outputs (LogSoftmax after the Gemm).</summary>
    internal static (byte[] Model, OnnxModelBuilder Builder) Build(string op)
    {
        var b = new OnnxModelBuilder(InputShape, seed: 31).ConvNd(4, 8, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.6);
        string conv = b.Current;
        int features = 8 * 36, opset = 13;
        string Scalar(string name, float value) => b.Initializer(name, Array.Empty<long>(), new[] { value });
        string PerChannel(string name) => b.Initializer(name, new long[] { 8, 1, 1 }, b.RandomTensor(8, 0.5));
        switch (op)
        {
            case "LeakyRelu": b.Node("LeakyRelu", Array.Empty<string>(), OnnxModelBuilder.Float("alpha", 0.1f)); break;
            case "PRelu": b.Node("PRelu", new[] { PerChannel("slope") }); break;
            case "Elu": b.Node("Elu", Array.Empty<string>(), OnnxModelBuilder.Float("alpha", 0.7f)); break;
            case "Selu": b.Node("Selu", Array.Empty<string>()); break;
            case "Softplus": b.Node("Softplus", Array.Empty<string>()); break;
            case "Softsign": b.Node("Softsign", Array.Empty<string>()); break;
            case "HardSigmoid": b.Node("HardSigmoid", Array.Empty<string>(), OnnxModelBuilder.Float("alpha", 0.3f), OnnxModelBuilder.Float("beta", 0.4f)); break;
            case "HardSwish": b.Node("HardSwish", Array.Empty<string>()); opset = 14; break;
            case "Clip": b.Node("Clip", new[] { Scalar("low", -0.5f), Scalar("high", 0.8f) }); break;
            case "Relu6": b.Node("Clip", new[] { Scalar("low", 0f), Scalar("high", 6f) }); break;
            case "Log": b.Node("Sigmoid", Array.Empty<string>()).Node("Log", Array.Empty<string>()); break;
            case "Max": b.Node("Max", new[] { PerChannel("floor") }); break;
            case "Min": b.Node("Min", new[] { PerChannel("ceiling"), conv }); break;
            case "Sum": b.Relu().Node("Sum", new[] { conv, PerChannel("shift") }); break;
            case "Mean": b.Relu().Node("Mean", new[] { conv, PerChannel("shift") }); break;
            case "ReduceSum": b.Node("ReduceSum", new[] { b.Int64Initializer("axes", new long[] { 2, 3 }) }); features = 8; break;
            case "ReduceMax": b.Node("ReduceMax", Array.Empty<string>(), OnnxModelBuilder.Ints("axes", 2, 3)); features = 8; break;
            case "ReduceMin": b.Node("ReduceMin", Array.Empty<string>(), OnnxModelBuilder.Ints("axes", -1), OnnxModelBuilder.Int("keepdims", 0)); features = 48; break;
            case "ReduceMean": b.Node("ReduceMean", Array.Empty<string>(), OnnxModelBuilder.Ints("axes", 1, 3)); features = 6; break;
            case "GlobalAveragePool": b.Node("GlobalAveragePool", Array.Empty<string>()); features = 8; break;
            case "GlobalMaxPool": b.Node("GlobalMaxPool", Array.Empty<string>()); features = 8; break;
            case "SqueezeUnsqueeze":
                b.Node("GlobalAveragePool", Array.Empty<string>())
                    .Node("Squeeze", new[] { b.Int64Initializer("squeezed", new long[] { 2, 3 }) })
                    .Node("Unsqueeze", new[] { b.Int64Initializer("unsqueezed", new long[] { 1 }) });
                features = 8;
                break;
            case "PadConstant": b.Node("Pad", new[] { b.Int64Initializer("pads", new long[] { 0, 0, 1, 2, 0, 0, 2, 0 }), b.Initializer("fill", Array.Empty<long>(), new[] { 0.25f }) }); features = 8 * 9 * 8; break;
            case "PadReflect": b.Node("Pad", new[] { b.Int64Initializer("pads", new long[] { 0, 0, 2, 1, 0, 0, 1, 3 }) }, OnnxModelBuilder.String("mode", "reflect")); features = 8 * 9 * 10; break;
            case "PadEdge": b.Node("Pad", new[] { b.Int64Initializer("pads", new long[] { 0, 0, 0, 2, 0, 0, 0, 2 }) }, OnnxModelBuilder.String("mode", "edge")); features = 8 * 6 * 10; break;
            case "Slice":
                b.Node("Slice", new[] { b.Int64Initializer("starts", new long[] { 1, 5, -1 }), b.Int64Initializer("ends", new long[] { 7, 0, -100 }),
                    b.Int64Initializer("axes", new long[] { 1, 2, 3 }), b.Int64Initializer("steps", new long[] { 2, -2, -1 }) });
                features = 3 * 3 * 6;
                break;
            case "Tile": b.Node("Tile", new[] { b.Int64Initializer("repeats", new long[] { 1, 2, 1, 3 }) }); features = 16 * 6 * 18; break;
            case "Split":
            {
                var split = new Onnx.Schema.NodeProto { OpType = "Split", Name = "split" };
                split.Input.Add(conv);
                split.Output.Add("low");
                split.Output.Add("high");
                split.Attribute.Add(OnnxModelBuilder.Int("axis", 1));
                b.Raw(split);
                b.From("low").Node("Mul", new[] { "high" });
                features = 4 * 36;
                break;
            }
            case "InstanceNormalization": b.Node("InstanceNormalization", new[] { b.Initializer("gamma", new long[] { 8 }, b.RandomTensor(8, 1)), b.Initializer("beta", new long[] { 8 }, b.RandomTensor(8, 0.5)) }); break;
            case "Cast": b.Node("Cast", Array.Empty<string>(), OnnxModelBuilder.Int("to", 1)).Relu(); break;
            case "CastFloat16": b.Node("Cast", Array.Empty<string>(), OnnxModelBuilder.Int("to", 10)).Node("Cast", Array.Empty<string>(), OnnxModelBuilder.Int("to", 1)); break;
            case "ConvTranspose":
                // 8 → 5 channels, 3×3, stride 2, pads 1/0, output_padding 1: 6×6 → 12×12.
                b.Node("ConvTranspose", new[] { b.Initializer("up", new long[] { 8, 5, 3, 3 }, b.RandomTensor(360, 0.4)), b.Initializer("up_bias", new long[] { 5 }, b.RandomTensor(5, 0.2)) },
                    OnnxModelBuilder.Ints("strides", 2, 2), OnnxModelBuilder.Ints("pads", 1, 1, 0, 0), OnnxModelBuilder.Ints("output_padding", 1, 1));
                features = 5 * 13 * 13;
                break;
            case "ConvTransposeGrouped":
                // 8 → 6 channels in 2 groups, 2×3 kernel, stride (1, 3), dilation (2, 1).
                b.Node("ConvTranspose", new[] { b.Initializer("up", new long[] { 8, 3, 2, 3 }, b.RandomTensor(144, 0.4)) },
                    OnnxModelBuilder.Int("group", 2), OnnxModelBuilder.Ints("strides", 1, 3), OnnxModelBuilder.Ints("dilations", 2, 1));
                features = 6 * 8 * 18;
                break;
            case "ConvTransposeTiles":
                // 8 → 5 channels, 2×2, stride 2 (an FPN's upsampling): each input's window its own, a 1x1 convolution and a shuffle.
                b.Node("ConvTranspose", new[] { b.Initializer("up", new long[] { 8, 5, 2, 2 }, b.RandomTensor(160, 0.4)), b.Initializer("up_bias", new long[] { 5 }, b.RandomTensor(5, 0.2)) },
                    OnnxModelBuilder.Ints("strides", 2, 2));
                features = 5 * 12 * 12;
                break;
            case "ConvTransposeTilesGrouped":
                // 8 → 6 channels in 2 groups, 3×2 kernel, stride (3, 2): 6×6 → 18×12.
                b.Node("ConvTranspose", new[] { b.Initializer("up", new long[] { 8, 3, 3, 2 }, b.RandomTensor(144, 0.4)), b.Initializer("up_bias", new long[] { 6 }, b.RandomTensor(6, 0.2)) },
                    OnnxModelBuilder.Int("group", 2), OnnxModelBuilder.Ints("strides", 3, 2), OnnxModelBuilder.Ints("kernel_shape", 3, 2));
                features = 6 * 18 * 12;
                break;
            case "ConvTransposeTiles1d":
                // 1-D: [1, 8, 36] → 3 channels, kernel 4, stride 4 → [1, 3, 144].
                b.Reshape(1, 8, 36).Node("ConvTranspose", new[] { b.Initializer("up", new long[] { 8, 3, 4 }, b.RandomTensor(96, 0.4)), b.Initializer("up_bias", new long[] { 3 }, b.RandomTensor(3, 0.2)) },
                    OnnxModelBuilder.Ints("strides", 4));
                features = 3 * 144;
                break;
            case "MaxPoolDilated":
                b.Node("MaxPool", Array.Empty<string>(), OnnxModelBuilder.Ints("kernel_shape", 2, 3), OnnxModelBuilder.Ints("strides", 1, 2),
                    OnnxModelBuilder.Ints("pads", 1, 1, 1, 1), OnnxModelBuilder.Ints("dilations", 2, 2));
                features = 8 * 6 * 2;
                break;
            case "CompareWhere":
            {
                // Where(x > -0.2 and not (x >= 0.3), x, -x / 2): a band kept, the rest folded.
                string low = b.From(conv).Node("Greater", new[] { Scalar("low", -0.2f) }).Current;
                string high = b.From(conv).Node("GreaterOrEqual", new[] { Scalar("high", 0.3f) }).Node("Not", Array.Empty<string>()).Current;
                string band = b.From(low).Node("And", new[] { high }).Current;
                string folded = b.From(conv).Node("Mul", new[] { Scalar("half", -0.5f) }).Current;
                b.From(band).Node("Where", new[] { conv, folded });
                break;
            }
            case "EqualOrXor":
            {
                // Booleans as numbers: Where(relu(x) == 0 or (x < 0.1 xor x <= -0.1), 1, x).
                string zero = b.From(conv).Relu().Node("Equal", new[] { Scalar("zero", 0f) }).Current;
                string small = b.From(conv).Node("Less", new[] { Scalar("small", 0.1f) }).Current;
                string negative = b.From(conv).Node("LessOrEqual", new[] { Scalar("negative", -0.1f) }).Current;
                string mask = b.From(small).Node("Xor", new[] { negative }).Node("Or", new[] { zero }).Current;
                b.From(mask).Node("Where", new[] { Scalar("one", 1f), conv });
                break;
            }
            case "ClipInfinite":
                // A ReLU written as Clip(0, +inf): the bound is a parameter, not a weight, so infinity is allowed.
                b.Node("Clip", new[] { Scalar("low", 0f), Scalar("high", float.PositiveInfinity) });
                break;
            case "CastBool":
                // Cast to bool and back: 1 where the value is not 0 (a ReLU's zeros stay 0), times the value.
                b.Relu().Node("Cast", Array.Empty<string>(), OnnxModelBuilder.Int("to", 9)).Node("Cast", Array.Empty<string>(), OnnxModelBuilder.Int("to", 1)).Node("Add", new[] { conv });
                break;
            case "TransposeBatchAxis":
                // The batch axis moved inward, then everything flattened from axis 0 ([1, 288]): no axis is special.
                b.Node("Transpose", Array.Empty<string>(), OnnxModelBuilder.Ints("perm", 2, 0, 3, 1)).Node("Flatten", Array.Empty<string>(), OnnxModelBuilder.Int("axis", 0));
                b.Gemm(features, 10, 0.3);
                return (b.Build(new long[] { 1, 10 }, opset), b);
            case "LayerNormalizationAxis1":
                b.Node("LayerNormalization", new[] { b.Initializer("gamma", new long[] { 8, 6, 6 }, b.RandomTensor(288, 1)), b.Initializer("beta", new long[] { 8, 6, 6 }, b.RandomTensor(288, 0.5)) },
                    OnnxModelBuilder.Int("axis", 1));
                opset = 17;
                break;
            case "ReshapeCopiesDims":
                b.Node("Reshape", new[] { b.Int64Initializer("shape", new long[] { 0, 0, -1 }) }).Node("Transpose", Array.Empty<string>(), OnnxModelBuilder.Ints("perm", 0, 2, 1));
                break;
            case "LRN":
                b.Node("LRN", Array.Empty<string>(), OnnxModelBuilder.Int("size", 3), OnnxModelBuilder.Float("alpha", 0.6f), OnnxModelBuilder.Float("beta", 0.75f), OnnxModelBuilder.Float("bias", 1.5f));
                break;
            case "LRNSize5":
                // Two channels either side; bias left at its default of 1. (ONNX Runtime refuses even sizes, so they are not compared.)
                b.Node("LRN", Array.Empty<string>(), OnnxModelBuilder.Int("size", 5), OnnxModelBuilder.Float("alpha", 0.9f), OnnxModelBuilder.Float("beta", 0.5f));
                break;
            case "Conv3dMaxPool3d":
                // The 8 channels as 2 of depth 4; a 3x2x3 convolution (dilated in depth, strided in height, padded
                // unevenly) to [1, 4, 2, 3, 5], then a 2x2x2 max pool (stride 2 along the width, padded) to [1, 4, 1, 3, 3].
                b.Reshape(1, 2, 4, 6, 6).ConvNd(2, 4, new[] { 3, 2, 3 }, new[] { 1, 2, 1 }, new[] { 1, 0, 1, 1, 1, 0 }, new[] { 2, 1, 1 }, scale: 0.5)
                    .Node("MaxPool", Array.Empty<string>(), OnnxModelBuilder.Ints("kernel_shape", 2, 2, 2), OnnxModelBuilder.Ints("strides", 1, 1, 2), OnnxModelBuilder.Ints("pads", 0, 1, 0, 0, 0, 1));
                features = 4 * 3 * 3;
                break;
            case "Conv3dGroupedAveragePool3d":
                // Two groups of a 2x3x3 convolution to [1, 4, 3, 6, 6], then a 1x2x2 average pool that leaves out its padding.
                b.Reshape(1, 2, 4, 6, 6).ConvNd(2, 4, new[] { 2, 3, 3 }, new[] { 1, 1, 1 }, new[] { 0, 1, 1, 0, 1, 1 }, new[] { 1, 1, 1 }, group: 2, scale: 0.5)
                    .Node("AveragePool", Array.Empty<string>(), OnnxModelBuilder.Ints("kernel_shape", 1, 2, 2), OnnxModelBuilder.Ints("pads", 0, 1, 1, 0, 0, 0));
                features = 4 * 3 * 6 * 6;
                break;
            case "MaxPoolCeil":
                // 6 positions, window 3, stride 2, ceil_mode: a third, partial window (floor mode gives 2).
                b.Node("MaxPool", Array.Empty<string>(), OnnxModelBuilder.Ints("kernel_shape", 3, 3), OnnxModelBuilder.Ints("strides", 2, 2), OnnxModelBuilder.Int("ceil_mode", 1));
                features = 8 * 3 * 3;
                break;
            case "AveragePoolCeil":
                b.Node("AveragePool", Array.Empty<string>(), OnnxModelBuilder.Ints("kernel_shape", 2, 3), OnnxModelBuilder.Ints("strides", 2, 2), OnnxModelBuilder.Ints("pads", 1, 0, 0, 0), OnnxModelBuilder.Int("ceil_mode", 1));
                features = 8 * 4 * 3;
                break;
            case "ResizeNearest":
                // Opset 13 defaults: half_pixel, round_prefer_floor; 6x6 -> 12x9.
                b.Node("Resize", new[] { "", b.Initializer("scales", new long[] { 4 }, new[] { 1f, 1f, 2f, 1.5f }) }, OnnxModelBuilder.String("mode", "nearest"));
                features = 8 * 12 * 9;
                break;
            case "ResizeNearestAsymmetricFloor":
                // The nearest upsampling PyTorch exports (an FPN neck): asymmetric, floor.
                b.Node("Resize", new[] { "", b.Initializer("scales", new long[] { 4 }, new[] { 1f, 1f, 2f, 2f }) }, OnnxModelBuilder.String("mode", "nearest"),
                    OnnxModelBuilder.String("coordinate_transformation_mode", "asymmetric"), OnnxModelBuilder.String("nearest_mode", "floor"));
                features = 8 * 12 * 12;
                break;
            case "ResizeLinearSizes":
                b.Node("Resize", new[] { "", "", b.Int64Initializer("sizes", new long[] { 1, 8, 9, 4 }) }, OnnxModelBuilder.String("mode", "linear"));
                features = 8 * 9 * 4;
                break;
            case "ResizeLinearAlignCorners":
                b.Node("Resize", new[] { "", b.Initializer("scales", new long[] { 4 }, new[] { 1f, 1f, 1.5f, 2f }) }, OnnxModelBuilder.String("mode", "linear"),
                    OnnxModelBuilder.String("coordinate_transformation_mode", "align_corners"));
                features = 8 * 9 * 12;
                break;
            case "ResizeLinearPytorchHalfPixel":
                b.Node("Resize", new[] { "", "", b.Int64Initializer("sizes", new long[] { 1, 8, 1, 11 }) }, OnnxModelBuilder.String("mode", "linear"),
                    OnnxModelBuilder.String("coordinate_transformation_mode", "pytorch_half_pixel"));
                features = 8 * 1 * 11;
                break;
            case "ClipComputedMin":
            {
                // A log-mel front end's floor: the largest value less a constant, computed at run time.
                string top = b.From(conv).Node("ReduceMax", Array.Empty<string>(), OnnxModelBuilder.Int("keepdims", 0)).Current;
                string floor = b.Node("Sub", new[] { Scalar("range", 0.6f) }).Current;
                b.From(conv).Node("Clip", new[] { floor });
                break;
            }
            case "GatherValueAxis1":
                // Channels picked from a computed value, one twice, a negative index among them.
                b.Node("Gather", new[] { b.Int64Initializer("channels", new long[] { 3, 0, -1, 3 }) }, OnnxModelBuilder.Int("axis", 1));
                features = 4 * 36;
                break;
            case "GatherValueScalarIndex":
                // One row of every channel: a scalar index removes the axis, [1, 8, 6, 6] -> [1, 8, 6].
                b.Node("Gather", new[] { b.Int64Initializer("row", Array.Empty<long>(), new long[] { 4 }) }, OnnxModelBuilder.Int("axis", 2));
                features = 8 * 6;
                break;
            case "SizeOfValue":
            {
                // Size of a computed value folds at build time (shapes are static): the value divided by its element count.
                b.From(conv).Node("Size", Array.Empty<string>());
                string count = b.Node("Cast", Array.Empty<string>(), OnnxModelBuilder.Int("to", 1)).Current;
                b.From(conv).Node("Div", new[] { count });
                break;
            }
            case "UnaryChain":
                // The element-wise functions in a row, each on values it is defined for: √(|x| + ½) ≥ 0.7, its reciprocal ≤ 1.42, ...
                b.Node("Abs", Array.Empty<string>()).Node("Add", new[] { Scalar("half", 0.5f) }).Node("Sqrt", Array.Empty<string>())
                    .Node("Reciprocal", Array.Empty<string>()).Node("Pow", new[] { Scalar("power", 1.5f) }).Node("Neg", Array.Empty<string>())
                    .Node("Exp", Array.Empty<string>()).Node("Tanh", Array.Empty<string>()).Node("Erf", Array.Empty<string>())
                    .Node("Identity", Array.Empty<string>()).Node("Dropout", Array.Empty<string>());
                break;
            case "BatchNormalizationSoftmax":
                // After a ReLU a BatchNormalization cannot fold into the convolution: a per-channel scale and shift. Softmax after the Gemm.
                b.Relu().BatchNormalization(8);
                break;
            case "ShapeArithmetic":
            {
                // What exporters write around shapes, all computed at build time: a Constant (value_floats), Range, Shape,
                // ConstantOfShape; then a Concat of two values along the channels.
                var constant = new Onnx.Schema.NodeProto { OpType = "Constant", Name = "per_channel" };
                constant.Output.Add("per_channel");
                var floats = new Onnx.Schema.AttributeProto { Name = "value_floats", Type = Onnx.Schema.AttributeProto.Types.AttributeType.Floats };
                floats.Floats.Add(b.RandomTensor(8, 0.5));
                constant.Attribute.Add(floats);
                b.Raw(constant);
                string shift = b.From("per_channel").Node("Reshape", new[] { b.Int64Initializer("channel_shape", new long[] { 8, 1, 1 }) }).Current;
                string ramp = b.From(b.Int64Initializer("start", Array.Empty<long>(), new long[] { 1 }))
                    .Node("Range", new[] { b.Int64Initializer("limit", Array.Empty<long>(), new long[] { 9 }), b.Int64Initializer("delta", Array.Empty<long>(), new long[] { 1 }) })
                    .Node("Cast", Array.Empty<string>(), OnnxModelBuilder.Int("to", 1)).Node("Reshape", new[] { "channel_shape" }).Current;
                var fill = new Onnx.Schema.TensorProto { DataType = 1 };
                fill.Dims.Add(1);
                fill.FloatData.Add(0.25f);
                string quarter = b.From(conv).Node("Shape", Array.Empty<string>())
                    .Node("ConstantOfShape", Array.Empty<string>(), new Onnx.Schema.AttributeProto { Name = "value", Type = Onnx.Schema.AttributeProto.Types.AttributeType.Tensor, T = fill }).Current;
                string scaled = b.From(conv).Node("Add", new[] { shift }).Node("Mul", new[] { ramp }).Node("Add", new[] { quarter }).Current;
                b.From(scaled).Node("Concat", new[] { conv }, OnnxModelBuilder.Int("axis", 1));
                features = 16 * 36;
                break;
            }
            case "MatMulGelu":
                // Positions as tokens: [1, 36, 8] through a constant 8x8 matrix and the exact GELU, then the tokens' products with each other.
                b.Reshape(1, 8, 36).Node("Transpose", Array.Empty<string>(), OnnxModelBuilder.Ints("perm", 0, 2, 1))
                    .Node("MatMul", new[] { b.Initializer("mixing", new long[] { 8, 8 }, b.RandomTensor(64, 0.5)) }).Node("Gelu", Array.Empty<string>());
                string tokens = b.Current;
                string transposed = b.Node("Transpose", Array.Empty<string>(), OnnxModelBuilder.Ints("perm", 0, 2, 1)).Current;
                b.From(tokens).Node("MatMul", new[] { transposed });
                features = 36 * 36;
                opset = 20;
                break;
            case "LstmThenGru":
            {
                // The 6 rows of the feature map as a sequence of 6 steps of 48 values: an LSTM (5 hidden), its Y as a
                // sequence for a GRU (4 hidden) run in reverse, every step's output kept.
                b.Reshape(6, 1, 48);
                var lstm = new Onnx.Schema.NodeProto { OpType = "LSTM", Name = "lstm" };
                lstm.Input.Add(new[] { b.Current, b.Initializer("lstm_w", new long[] { 1, 20, 48 }, b.RandomTensor(960, 0.3)), b.Initializer("lstm_r", new long[] { 1, 20, 5 }, b.RandomTensor(100, 0.5)),
                    b.Initializer("lstm_b", new long[] { 1, 40 }, b.RandomTensor(40, 0.2)) });
                lstm.Output.Add("lstm_y");
                lstm.Attribute.Add(OnnxModelBuilder.Int("hidden_size", 5));
                b.Raw(lstm);
                b.From("lstm_y").Reshape(6, 1, 5);
                var gru = new Onnx.Schema.NodeProto { OpType = "GRU", Name = "gru" };
                gru.Input.Add(new[] { b.Current, b.Initializer("gru_w", new long[] { 1, 12, 5 }, b.RandomTensor(60, 0.6)), b.Initializer("gru_r", new long[] { 1, 12, 4 }, b.RandomTensor(48, 0.5)),
                    b.Initializer("gru_b", new long[] { 1, 24 }, b.RandomTensor(24, 0.2)) });
                gru.Output.Add("gru_y");
                gru.Attribute.Add(OnnxModelBuilder.Int("hidden_size", 4));
                gru.Attribute.Add(OnnxModelBuilder.String("direction", "reverse"));
                b.Raw(gru);
                b.From("gru_y").Reshape(1, 24);
                features = 24;
                break;
            }
            case "IfComputed":
            {
                // A branch chosen at run time by the sign of the feature map's sum: twice the map, or its negation.
                string positive = b.From(conv).Node("ReduceSum", Array.Empty<string>(), OnnxModelBuilder.Int("keepdims", 0)).Node("Greater", new[] { Scalar("zero", 0f) }).Current;
                Onnx.Schema.GraphProto Branch(string branchName, string op, string[] inputs)
                {
                    var graph = new Onnx.Schema.GraphProto { Name = branchName };
                    var node = new Onnx.Schema.NodeProto { OpType = op, Name = branchName + "_" + op };
                    node.Input.Add(inputs);
                    node.Output.Add(branchName + "_out");
                    graph.Node.Add(node);
                    graph.Output.Add(OnnxProto.Value(branchName + "_out", new long?[] { 1, 8, 6, 6 }));
                    return graph;
                }
                var branch = new Onnx.Schema.NodeProto { OpType = "If", Name = "choose" };
                branch.Input.Add(positive);
                branch.Output.Add("chosen");
                branch.Attribute.Add(new Onnx.Schema.AttributeProto { Name = "then_branch", Type = Onnx.Schema.AttributeProto.Types.AttributeType.Graph, G = Branch("doubled", "Add", new[] { conv, conv }) });
                branch.Attribute.Add(new Onnx.Schema.AttributeProto { Name = "else_branch", Type = Onnx.Schema.AttributeProto.Types.AttributeType.Graph, G = Branch("negated", "Neg", new[] { conv }) });
                b.Raw(branch).From("chosen");
                break;
            }
            case "ConvGroupsOfTen":
                // Two groups of 10 output channels (not whole vectors): each group's last vector overlaps the one before.
                b.ConvNd(8, 20, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, group: 2, scale: 0.5);
                features = 20 * 36;
                break;
            case "ConvGroupsOfEighteen":
                // ShuffleNet's shape: a grouped 1x1 convolution, 2 groups of 18 (a Vector512 and an overlapping one), ReLU fused.
                b.ConvNd(8, 36, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, group: 2, scale: 0.5).Relu();
                features = 36 * 36;
                break;
            case "ConvGroupsOfFifty":
                // 2 groups of 50: with Vector128 the overlapping last vector is a pass of its own (13 vectors in passes of
                // 4), with Vector256 it ends a pass of 3, with Vector512 a pass of 4.
                b.ConvNd(8, 100, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, group: 2, scale: 0.5);
                features = 100 * 36;
                break;
            case "HardSwishChain":
            {
                // PP-LCNetV3's exported blocks: an affine scalar pair, hardswish as x·clip(x + 3, 0, 6)/6, another pair.
                // FuseElementwise makes them one step.
                string x = b.Node("Mul", new[] { Scalar("scale", 1.3f) }).Node("Add", new[] { Scalar("shift", 0.5f) }).Current;
                b.Node("Add", new[] { Scalar("three", 3f) }).Node("Clip", new[] { Scalar("zero", 0f), Scalar("six", 6f) }).Node("Mul", new[] { x })
                    .Node("Div", new[] { Scalar("six_div", 6f) }).Node("Mul", new[] { Scalar("scale2", 0.7f) }).Node("Add", new[] { Scalar("shift2", -0.1f) })
                    // Then a Clip with a lower bound only and a HardSwish operator: ten steps in one.
                    .Node("Clip", new[] { Scalar("floor", -0.2f) }).Node("HardSwish", Array.Empty<string>());
                opset = 14;
                break;
            }
            case "ChainWithAnOutsideReader":
            {
                // a = HardSigmoid(conv) is also read by a Sigmoid after the chain: it must stay in memory, so only
                // b = 2a and its clip fuse; the Sigmoid and the last Add read a and the clip as written.
                string a = b.Node("HardSigmoid", Array.Empty<string>(), OnnxModelBuilder.Float("alpha", 0.3f), OnnxModelBuilder.Float("beta", 0.4f)).Current;
                string clipped = b.Node("Mul", new[] { Scalar("two", 2f) }).Node("Clip", new[] { Scalar("low", -1f), Scalar("high", 1.5f) }).Current;
                b.From(a).Node("Sigmoid", Array.Empty<string>()).Node("Add", new[] { clipped });
                break;
            }
            case "ChannelShuffle":
                // ShuffleNet's unit: a grouped 1x1 convolution (2 groups of 18, channels-last in 40 slots), its channels
                // shuffled as 3 x 12 by Reshape, Transpose and Reshape (a permutation at each position, channels-last), a ReLU and a
                // depthwise 3x3 convolution reading the shuffle where it was written.
                b.ConvNd(8, 36, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, group: 2, scale: 0.5)
                    .Node("Reshape", new[] { b.Int64Initializer("split", new long[] { 1, 3, 12, 6, 6 }) })
                    .Node("Transpose", Array.Empty<string>(), OnnxModelBuilder.Ints("perm", 0, 2, 1, 3, 4))
                    .Node("Reshape", new[] { b.Int64Initializer("join", new long[] { 1, 36, 6, 6 }) })
                    .Relu()
                    .ConvNd(36, 36, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, group: 36, scale: 0.5);
                features = 36 * 36;
                break;
            case "ChannelShuffleIntoDepthwise":
                // ShuffleNet's unit as ONNX exports it: the shuffle (3 x 12 of 36 channels in 40 slots) read by the
                // depthwise 3x3 convolution alone, which does it as it stages its input (FoldChannelShuffles).
                b.ConvNd(8, 36, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, group: 2, scale: 0.5).Relu()
                    .Node("Reshape", new[] { b.Int64Initializer("split", new long[] { 1, 3, 12, 6, 6 }) })
                    .Node("Transpose", Array.Empty<string>(), OnnxModelBuilder.Ints("perm", 0, 2, 1, 3, 4))
                    .Node("Reshape", new[] { b.Int64Initializer("join", new long[] { 1, 36, 6, 6 }) })
                    .ConvNd(36, 36, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, group: 36, scale: 0.5);
                features = 36 * 36;
                break;
            case "ChannelShuffleIntoStridedDepthwise":
                // A downsampling unit's: 48 channels shuffled as 4 x 12 into a depthwise 3x3 convolution of stride 2 (no
                // ReLU: at ReverseModeTests' fixed input one of its kinks lies within the finite differences' step).
                b.ConvNd(8, 48, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, group: 2, scale: 0.5)
                    .Node("Reshape", new[] { b.Int64Initializer("split", new long[] { 1, 4, 12, 6, 6 }) })
                    .Node("Transpose", Array.Empty<string>(), OnnxModelBuilder.Ints("perm", 0, 2, 1, 3, 4))
                    .Node("Reshape", new[] { b.Int64Initializer("join", new long[] { 1, 48, 6, 6 }) })
                    .ConvNd(48, 48, new[] { 3, 3 }, new[] { 2, 2 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, group: 48, scale: 0.5);
                features = 48 * 9;
                break;
            case "ChannelShuffleReadTwice":
            {
                // The shuffled value read by the depthwise convolution and by an Add after it: stored, not folded.
                string shuffled = b.ConvNd(8, 36, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, group: 2, scale: 0.5)
                    .Node("Reshape", new[] { b.Int64Initializer("split", new long[] { 1, 3, 12, 6, 6 }) })
                    .Node("Transpose", Array.Empty<string>(), OnnxModelBuilder.Ints("perm", 0, 2, 1, 3, 4))
                    .Node("Reshape", new[] { b.Int64Initializer("join", new long[] { 1, 36, 6, 6 }) }).Current;
                b.ConvNd(36, 36, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, group: 36, scale: 0.5).Node("Add", new[] { shuffled });
                features = 36 * 36;
                break;
            }
            case "ConcatThenRelu":
            {
                // ShuffleNet's downsampling unit ends so: a convolution's channels beside a pool's, then a ReLU, which the
                // Concat applies as it copies (channels-last, 24 channels).
                string branch = b.ConvNd(8, 16, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.5).Current;
                string pooled = b.From(conv).Node("AveragePool", Array.Empty<string>(), OnnxModelBuilder.Ints("kernel_shape", 3, 3), OnnxModelBuilder.Ints("pads", 1, 1, 1, 1)).Current;
                b.From(branch).Node("Concat", new[] { pooled }, OnnxModelBuilder.Int("axis", 1)).Relu();
                features = 24 * 36;
                break;
            }
            case "ConcatThenReluInPlace":
            {
                // Two convolutions written in place into their Concat (ConcatInPlace), the ReLU after it done by each.
                string narrow = b.ConvNd(8, 8, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, scale: 0.5).Current;
                string wide = b.From(conv).ConvNd(8, 16, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 1, 1, 1, 1 }, new[] { 1, 1 }, scale: 0.5).Current;
                b.From(narrow).Node("Concat", new[] { wide }, OnnxModelBuilder.Int("axis", 1)).Relu();
                features = 24 * 36;
                break;
            }
            case "ConcatThenReluPlanes":
            {
                // Along the rows, in planes: each part's chunks copied as max(x, 0).
                string squashed = b.Node("Sigmoid", Array.Empty<string>()).Node("Add", new[] { Scalar("shift", -0.6f) }).Current;
                b.From(conv).Node("Concat", new[] { squashed }, OnnxModelBuilder.Int("axis", 2)).Relu();
                features = 8 * 72;
                break;
            }
            case "ChannelShuffleReadInPlanes":
                // The shuffled five-axis value read as it is by an operator that needs planes: converted once, in the
                // shuffle's order.
                b.ConvNd(8, 36, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }, group: 2, scale: 0.5)
                    .Node("Reshape", new[] { b.Int64Initializer("split", new long[] { 1, 2, 18, 6, 6 }) })
                    .Node("Transpose", Array.Empty<string>(), OnnxModelBuilder.Ints("perm", 0, 2, 1, 3, 4))
                    .Node("Sigmoid", Array.Empty<string>());
                features = 36 * 36;
                break;
            case "SqueezeExcitation":
            {
                // MobileNetV3 / PP-LCNet's block: the image scaled by one value per channel computed from its mean,
                // channels-last, each position's channel vector times the scales.
                string scales = b.Node("GlobalAveragePool", Array.Empty<string>())
                    .ConvNd(8, 4, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 }).Relu()
                    .ConvNd(4, 8, new[] { 1, 1 }, new[] { 1, 1 }, new[] { 0, 0, 0, 0 }, new[] { 1, 1 })
                    .Node("HardSigmoid", Array.Empty<string>(), OnnxModelBuilder.Float("alpha", 0.2f), OnnxModelBuilder.Float("beta", 0.5f)).Current;
                b.From(conv).Node("Mul", new[] { scales });
                break;
            }
            case "PerChannelSubtractAddRelu":
            {
                // One value per channel on the left of a Sub (s - x), then on the left of an Add with a ReLU after it (fused).
                string peaks = b.Node("GlobalMaxPool", Array.Empty<string>()).Current;
                string difference = b.From(peaks).Node("Sub", new[] { conv }).Current;
                b.From(peaks).Node("Add", new[] { difference }).Relu();
                break;
            }
            case "FireModule":
                b.Fire(8, 6, 10, 12);
                features = 22 * 36;
                break;
            case "FireModuleInPlace":
                // Expansions of whole vectors of 8 channels: each writes its channels of the Concat in place (ConcatInPlace).
                b.Fire(8, 8, 16, 24);
                features = 40 * 36;
                break;
            case "AveragePoolPlanes":
                // After a Sigmoid the value is in planes: the pool's inner columns a vector at a time, the edges one by one.
                b.Node("Sigmoid", Array.Empty<string>()).Node("AveragePool", Array.Empty<string>(), OnnxModelBuilder.Ints("kernel_shape", 3, 3), OnnxModelBuilder.Ints("pads", 1, 1, 1, 1));
                break;
            case "MaxPoolPlanes":
                b.Node("Sigmoid", Array.Empty<string>()).Node("MaxPool", Array.Empty<string>(), OnnxModelBuilder.Ints("kernel_shape", 2, 3), OnnxModelBuilder.Ints("pads", 1, 1, 0, 1));
                break;
            case "MaxPoolPlanesStrided":
                // In planes, a stride of 2 and a partial last window (ceil_mode): each output row's window rows reduced a
                // vector of columns at a time (6 columns: one Vector128 and one ending at the last column), then its columns.
                b.Node("Sigmoid", Array.Empty<string>()).Node("MaxPool", Array.Empty<string>(), OnnxModelBuilder.Ints("kernel_shape", 3, 3), OnnxModelBuilder.Ints("strides", 2, 2),
                    OnnxModelBuilder.Ints("pads", 1, 0, 0, 0), OnnxModelBuilder.Int("ceil_mode", 1));
                features = 8 * 3 * 3;
                break;
            case "MaxPoolPlanesStridedWide":
                // Rows of 18 columns (a Vector512 and a last one overlapping it), strides 2 x 3, padding on both sides.
                b.Reshape(1, 2, 8, 18).Node("Sigmoid", Array.Empty<string>()).Node("MaxPool", Array.Empty<string>(), OnnxModelBuilder.Ints("kernel_shape", 3, 2),
                    OnnxModelBuilder.Ints("strides", 2, 3), OnnxModelBuilder.Ints("pads", 1, 0, 1, 1));
                features = 2 * 4 * 6;
                break;
            case "PowOfEveryBase":
                // x³ of a convolution's values (negative, positive, after a ReLU zeros too): vectors of positive bases as
                // e^(3·ln x), the others by MathF.Pow's rules (a negative base's odd power is negative, not NaN).
            {
                string cube = b.Node("Pow", new[] { Scalar("cube", 3f) }).Current;
                b.From(conv).Relu().Node("Pow", new[] { Scalar("cube_of_relu", 3f) }).Node("Add", new[] { cube });
                break;
            }
            case "LogSoftmax": break;
            default: throw new ArgumentException(op);
        }
        b.Flatten().Gemm(features, 10, 0.3);
        if (op == "LogSoftmax") b.Node("LogSoftmax", Array.Empty<string>(), OnnxModelBuilder.Int("axis", 1));
        if (op == "BatchNormalizationSoftmax") b.Node("Softmax", Array.Empty<string>(), OnnxModelBuilder.Int("axis", 1));
        return (b.Build(new long[] { 1, 10 }, opset), b);
    }

    private static float[] SignedInput(int seed) => TestModels.Input(4 * 36, seed).Select(v => 2 * v - 1).ToArray();

    [Theory]
    [MemberData(nameof(Operators))]
    public void Unquantized_build_matches_OnnxRuntime_within_1e_4(string op)
    {
        (byte[] model, _) = Build(op);
        using var reference = new OnnxRuntimeReference(model, InputShape);
        (Func<float[], float[]> run, _) = OnnxRuntimeComparisonTests.Compile(model, ", Quantize = false");
        AssertAgree(op, reference, run);
    }

    [Theory]
    [MemberData(nameof(Operators))]
    public void Eight_bit_build_matches_OnnxRuntime_on_the_same_dequantized_weights(string op)
    {
        (byte[] model, _) = Build(op);
        using var reference = new OnnxRuntimeReference(DequantizedOnnx.Rewrite(model, 8), InputShape);
        (Func<float[], float[]> run, _) = OnnxRuntimeComparisonTests.Compile(model, ", Bits = 8, FlipProbability = 0.0, EccBudget = 0.0");
        AssertAgree(op, reference, run);
    }

    private static void AssertAgree(string op, OnnxRuntimeReference reference, Func<float[], float[]> run)
    {
        for (int seed = 0; seed < Inputs; seed++)
        {
            float[] input = SignedInput(seed);
            float[] expected = reference.Run(input), actual = run(input);
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"{op}, input {seed}, output {i}: ONNX Runtime {expected[i]}, generated {actual[i]}");
        }
    }
}
