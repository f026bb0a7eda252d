using System.Text;
using Google.Protobuf;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Tools;

namespace Qtaml.Generators.Tests.Support;

/// <summary>One file of the corpus: what kind of damage or oddity it carries, its path (the extension picks the reader) and its bytes.</summary>
internal sealed record CorpusCase(int Index, string Kind, string Path, byte[] Bytes)
{
    public override string ToString() => $"case {Index} ({Kind}, {Path})";
}

/// <summary>
/// A seeded, structure-aware corpus of ONNX and safetensors files: valid models of every shape the generator
/// compiles, then mutated the way careless exporters and attackers do: hostile names, foreign opsets and domains,
/// attributes of the wrong type or unknown, window attributes that change the meaning (auto_pad, dilations,
/// ceil_mode, kernel_shape), Softmax axes across the opset 13 change, shared batch normalizations, [C] adds after
/// 1x1 convolutions, duplicate initializers and values, Dropout in training mode, external data, extra inputs,
/// huge claimed shapes, byte damage; for safetensors overlapping, aliased and holed offsets, trailing bytes,
/// duplicate keys, unknown dtypes and layer options. The same seed gives the same files.
/// </summary>
internal static class HostileCorpus
{
    /// <summary>The kinds of ONNX damage, each drawn equally often.</summary>
    public static readonly string[] OnnxKinds =
    {
        "valid", "hostile names", "opset", "domain", "attribute type", "unknown attribute", "duplicate attribute",
        "softmax axis", "window", "conv kernel", "shared batchnorm", "bias after 1x1 conv", "duplicate initializer",
        "dropout", "external data", "extra input", "duplicate value", "huge shape", "byte damage", "gemm alpha int",
    };

    public static readonly string[] SafetensorsKinds =
    {
        "valid", "overlap", "alias", "hole", "trailing bytes", "duplicate key", "unknown option", "bad option value",
        "huge shape", "dtype", "byte damage",
    };

    public static IEnumerable<CorpusCase> Onnx(int count, int seed)
    {
        for (int i = 0; i < count; i++)
        {
            var random = new Random(seed * 100_003 + i);
            string kind = OnnxKinds[i % OnnxKinds.Length];
            ModelProto model = ModelProto.Parser.ParseFrom(SeedModel(random, kind));
            byte[] bytes = MutateOnnx(model, kind, random);
            yield return new CorpusCase(i, kind, "Models/case" + i + ".onnx", bytes);
        }
    }

    public static IEnumerable<CorpusCase> Safetensors(int count, int seed)
    {
        for (int i = 0; i < count; i++)
        {
            var random = new Random(seed * 100_019 + i);
            string kind = SafetensorsKinds[i % SafetensorsKinds.Length];
            yield return new CorpusCase(i, kind, "Models/case" + i + ".safetensors", MutateSafetensors(kind, random));
        }
    }

    private static float[] Random(Random random, int count, double scale = 0.5) =>
        Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();

    /// <summary>A valid model to damage: the seed shapes the generator compiles, picked by the random stream (some kinds need a particular one).</summary>
    private static byte[] SeedModel(Random random, string kind)
    {
        int pick = kind switch
        {
            "softmax axis" => 6,
            "window" or "conv kernel" => 7,
            "shared batchnorm" => 8,
            "bias after 1x1 conv" => 9,
            "gemm alpha int" => random.Next(2) == 0 ? 0 : 4,
            _ => random.Next(10),
        };
        int seed = random.Next(1000);
        return pick switch
        {
            0 => Generator.TestModels.Mlp(seed).Build(new long[] { 1, 10 }),
            1 => Generator.TestModels.Cnn(seed).Build(new long[] { 1, 10 }),
            2 => Generator.TestModels.CnnWithBatchNorm(seed).Build(new long[] { 1, 10 }),
            3 => Generator.TestModels.ChannelsLastCnn(seed).Build(new long[] { 1, 10 }),
            4 => Generator.TestModels.DeepMlp(seed).Build(new long[] { 1, 10 }),
            5 => TinyEncoder.Build(seed),
            6 => SoftmaxModel(random),
            7 => WindowModel(random),
            8 => SharedBatchNormModel(random),
            _ => BiasAfterPointConvModel(random),
        };
    }

    /// <summary>Softmax over a rank-4 value [1, 2, 3, 4] at an opset before or after 13, with a drawn axis.</summary>
    private static byte[] SoftmaxModel(Random random)
    {
        var g = new OnnxGraphWriter("softmax");
        string x = g.Input("input", new long?[] { 1, 2, 3, 4 });
        string scaled = g.Node("Mul", new[] { x, g.Scalar("k", 3f) });
        var attributes = random.Next(4) == 0 ? Array.Empty<AttributeProto>() : new[] { OnnxProto.Int("axis", random.Next(-4, 4)) };
        string y = g.Node("Softmax", new[] { scaled }, attributes);
        return g.Build(y, new long?[] { 1, 2, 3, 4 }, "corpus", new[] { 11, 12, 13, 17 }[random.Next(4)]);
    }

    /// <summary>A Conv and a pooling on a 2×7×7 input with drawn strides and pads: the window attributes are damaged later.</summary>
    private static byte[] WindowModel(Random random)
    {
        var g = new OnnxGraphWriter("window");
        string x = g.Input("input", new long?[] { 1, 2, 7, 7 });
        int k = random.Next(1, 4), stride = random.Next(1, 3), pad = random.Next(0, 2);
        string conv = g.Node("Conv", "conv", new[] { x, g.Constant("w", new long[] { 3, 2, k, k }, Random(random, 3 * 2 * k * k)), g.Constant("b", new long[] { 3 }, Random(random, 3, 0.1)) },
            OnnxProto.Ints("kernel_shape", k, k), OnnxProto.Ints("strides", stride, stride), OnnxProto.Ints("pads", pad, pad, pad, pad));
        string op = random.Next(2) == 0 ? "MaxPool" : "AveragePool";
        string pool = g.Node(op, "pool", new[] { conv }, OnnxProto.Ints("kernel_shape", 2, 2), OnnxProto.Ints("strides", 1, 1));
        string flat = g.Node("Flatten", new[] { pool }, OnnxProto.Int("axis", 1));
        return g.Build(flat, new long?[] { 1, null }, "corpus", new[] { 11, 13, 17 }[random.Next(3)]);
    }

    /// <summary>Conv → BatchNormalization, where the Conv's output is also read by a residual Add: the fold must not change that reader.</summary>
    private static byte[] SharedBatchNormModel(Random random)
    {
        var g = new OnnxGraphWriter("shared-bn");
        string x = g.Input("input", new long?[] { 1, 2, 5, 5 });
        string conv = g.Node("Conv", "conv", new[] { x, g.Constant("w", new long[] { 3, 2, 3, 3 }, Random(random, 54)), g.Constant("b", new long[] { 3 }, Random(random, 3, 0.1)) },
            OnnxProto.Ints("kernel_shape", 3, 3), OnnxProto.Ints("pads", 1, 1, 1, 1));
        float[] Positive(int n) => Random(random, n, 0.4).Select(v => v + 1f).ToArray();
        string bn = g.Node("BatchNormalization", "bn", new[] { conv, g.Constant("gamma", new long[] { 3 }, Positive(3)), g.Constant("beta", new long[] { 3 }, Random(random, 3)),
            g.Constant("mean", new long[] { 3 }, Random(random, 3)), g.Constant("var", new long[] { 3 }, Positive(3)) }, OnnxProto.Float("epsilon", 1e-5f));
        string y = random.Next(2) == 0 ? g.Node("Add", new[] { bn, conv }) : g.Node("Relu", new[] { bn });
        string flat = g.Node("Flatten", new[] { y }, OnnxProto.Int("axis", 1));
        return g.Build(flat, new long?[] { 1, 75 }, "corpus", 13);
    }

    /// <summary>A Conv to a 1×1 output plus a constant of shape [C] (which broadcasts against the width, not the channels) or [C, 1, 1].</summary>
    private static byte[] BiasAfterPointConvModel(Random random)
    {
        var g = new OnnxGraphWriter("bias-1x1");
        string x = g.Input("input", new long?[] { 1, 2, 3, 3 });
        string conv = g.Node("Conv", "conv", new[] { x, g.Constant("w", new long[] { 4, 2, 3, 3 }, Random(random, 72)) }, OnnxProto.Ints("kernel_shape", 3, 3));
        bool perChannel = random.Next(2) == 0;
        string bias = g.Constant("c", perChannel ? new long[] { 4, 1, 1 } : new long[] { 4 }, Random(random, 4));
        string y = g.Node("Add", new[] { conv, bias });
        string flat = g.Node("Flatten", new[] { y }, OnnxProto.Int("axis", 1));
        return g.Build(flat, new long?[] { 1, perChannel ? 4 : 16 }, "corpus", 13);
    }

    private static readonly string[] HostileTexts =
    {
        "\n[System.Runtime.CompilerServices.ModuleInitializer] internal static void Pwn() { }", "\r\nclass X { }", "\u2028class X { }",
        "\u2029", "\u0085", "*/", "</summary>", "\"", "\\", "\u202E", "\u2066", "\0", "\uD800", "&<>", "\t",
    };

    private static byte[] MutateOnnx(ModelProto model, string kind, Random random)
    {
        GraphProto graph = model.Graph;
        NodeProto AnyNode() => graph.Node[random.Next(graph.Node.Count)];
        switch (kind)
        {
            case "valid":
                break;
            case "hostile names":
            {
                string text = HostileTexts[random.Next(HostileTexts.Length)];
                foreach (NodeProto node in graph.Node) node.Name = node.Name + text + random.Next(100);
                break;
            }
            case "opset":
            {
                int choice = random.Next(4);
                if (choice == 0) model.OpsetImport.Clear();
                else if (choice == 1) model.OpsetImport.Add(new OperatorSetIdProto { Domain = "ai.onnx", Version = 9 });
                else model.OpsetImport[0].Version = new long[] { 1, 5, 6, 7, 9, 11, 12, 23, 99, -1 }[random.Next(10)];
                break;
            }
            case "domain":
                AnyNode().Domain = new[] { "com.microsoft", "ai.onnx.ml", "ai.onnx", "custom" }[random.Next(4)];
                if (random.Next(2) == 0) model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
                break;
            case "attribute type":
            {
                var withAttributes = graph.Node.Where(n => n.Attribute.Count > 0).ToList();
                NodeProto node = withAttributes.Count > 0 ? withAttributes[random.Next(withAttributes.Count)] : AnyNode();
                if (node.Attribute.Count == 0) node.Attribute.Add(OnnxProto.Int("axis", 1));
                AttributeProto a = node.Attribute[random.Next(node.Attribute.Count)];
                var types = new[] { AttributeProto.Types.AttributeType.Int, AttributeProto.Types.AttributeType.Float, AttributeProto.Types.AttributeType.Ints, AttributeProto.Types.AttributeType.String, AttributeProto.Types.AttributeType.Floats };
                a.Type = types[random.Next(types.Length)];
                a.F = a.I;
                break;
            }
            case "unknown attribute":
                AnyNode().Attribute.Add(new[] { OnnxProto.Int("dilation", 2), OnnxProto.Int("groups", 2), OnnxProto.Int("ceil_mode", 1), OnnxProto.Float("alpha", 2f), OnnxProto.Ints("dilations", 2, 2), OnnxProto.Int("foo", 1) }[random.Next(6)]);
                break;
            case "duplicate attribute":
            {
                NodeProto node = graph.Node.FirstOrDefault(n => n.Attribute.Count > 0) ?? AnyNode();
                if (node.Attribute.Count == 0) node.Attribute.Add(OnnxProto.Int("axis", 1));
                node.Attribute.Add(node.Attribute[0].Clone());
                break;
            }
            case "softmax axis":
                break;   // the seed already draws the axis and the opset
            case "window":
            {
                NodeProto node = graph.Node[random.Next(2)];   // the Conv or the pooling
                switch (random.Next(6))
                {
                    case 0:
                    case 1:
                    {
                        string pad = new[] { "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER", "bogus" }[random.Next(5)];
                        node.Attribute.Add(new AttributeProto { Name = "auto_pad", S = ByteString.CopyFromUtf8(pad), Type = AttributeProto.Types.AttributeType.String });
                        if (random.Next(2) == 0) RemoveAttribute(node, "pads");
                        break;
                    }
                    case 2: node.Attribute.Add(OnnxProto.Ints("dilations", random.Next(1, 3), random.Next(1, 3))); break;
                    case 3: node.Attribute.Add(OnnxProto.Int("ceil_mode", random.Next(2))); break;
                    case 4: node.Attribute.Add(OnnxProto.Int("count_include_pad", 1)); break;
                    default: node.Attribute.Add(OnnxProto.Int("group", random.Next(1, 3))); break;
                }
                break;
            }
            case "conv kernel":
            {
                NodeProto conv = graph.Node[0];
                RemoveAttribute(conv, "kernel_shape");
                if (random.Next(3) > 0) conv.Attribute.Add(OnnxProto.Ints("kernel_shape", Enumerable.Range(0, random.Next(1, 4)).Select(_ => (long)random.Next(1, 5)).ToArray()));
                break;
            }
            case "shared batchnorm":
            case "bias after 1x1 conv":
                break;   // the seed is the case
            case "duplicate initializer":
            {
                TensorProto original = graph.Initializer[random.Next(graph.Initializer.Count)];
                TensorProto copy = original.Clone();
                if (copy.RawData.Length > 0) copy.RawData = ByteString.CopyFrom(copy.RawData.Select(b => (byte)(b ^ 0x40)).ToArray());
                if (random.Next(2) == 0) graph.Initializer.Insert(0, copy); else graph.Initializer.Add(copy);
                break;
            }
            case "dropout":
            {
                // A Dropout after the first node, with a training_mode input (opset 12+), true or false.
                NodeProto first = graph.Node[0];
                string output = first.Output[0], moved = output + "_pre_dropout";
                first.Output[0] = moved;
                var dropout = new NodeProto { OpType = "Dropout", Name = "dropout" };
                dropout.Input.Add(moved);
                if (random.Next(3) > 0)
                {
                    dropout.Input.Add(OnnxProto.Tensor(graph, "ratio", Array.Empty<long>(), new[] { 0.5f }));
                    var mode = new TensorProto { Name = "training_mode", DataType = 9 };
                    mode.Int32Data.Add(random.Next(2));
                    graph.Initializer.Add(mode);
                    dropout.Input.Add("training_mode");
                }
                dropout.Output.Add(output);
                graph.Node.Insert(1, dropout);
                break;
            }
            case "external data":
            {
                TensorProto tensor = graph.Initializer[random.Next(graph.Initializer.Count)];
                if (random.Next(2) == 0) tensor.DataLocation = TensorProto.Types.DataLocation.External;
                else tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
                break;
            }
            case "extra input":
                AnyNode().Input.Add(graph.Initializer[random.Next(graph.Initializer.Count)].Name);
                break;
            case "duplicate value":
            {
                NodeProto node = AnyNode();
                node.Output[0] = random.Next(2) == 0 ? graph.Input[0].Name : graph.Initializer[random.Next(graph.Initializer.Count)].Name;
                break;
            }
            case "huge shape":
            {
                TensorProto tensor = graph.Initializer[random.Next(graph.Initializer.Count)];
                tensor.Dims.Clear();
                tensor.Dims.Add(new[] { new long[] { 1L << 30, 1L << 30, 4 }, new long[] { long.MaxValue }, new long[] { -1, 8 }, new long[] { 1L << 31, 2 } }[random.Next(4)]);
                if (random.Next(2) == 0) tensor.RawData = ByteString.Empty;
                break;
            }
            case "gemm alpha int":
            {
                NodeProto gemm = graph.Node.FirstOrDefault(n => n.OpType == "Gemm") ?? AnyNode();
                RemoveAttribute(gemm, "alpha");
                gemm.Attribute.Add(new AttributeProto { Name = "alpha", I = 2, Type = AttributeProto.Types.AttributeType.Int });
                break;
            }
            case "byte damage":
            {
                byte[] bytes = model.ToByteArray();
                if (random.Next(2) == 0) return bytes.AsSpan(0, random.Next(bytes.Length)).ToArray();
                for (int n = random.Next(1, 6); n > 0; n--) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
            }
        }
        return model.ToByteArray();
    }

    private static void RemoveAttribute(NodeProto node, string name)
    {
        for (int i = node.Attribute.Count - 1; i >= 0; i--)
            if (node.Attribute[i].Name == name) node.Attribute.RemoveAt(i);
    }

    /// <summary>A safetensors MLP or CNN, damaged through its header or its bytes.</summary>
    private static byte[] MutateSafetensors(string kind, Random random)
    {
        OnnxModelBuilder seed = random.Next(2) == 0 ? Generator.TestModels.Mlp(random.Next(1000)) : Generator.TestModels.Cnn(random.Next(1000));
        byte[] file = SafetensorsWriter.Write(seed.Ops, seed.InputShape);
        int length = (int)BitConverter.ToUInt64(file, 0);
        string header = Encoding.UTF8.GetString(file, 8, length);
        byte[] data = file.Skip(8 + length).ToArray();
        var offsets = System.Text.RegularExpressions.Regex.Matches(header, @"""data_offsets"":\[(\d+),(\d+)\]").ToArray();
        System.Text.RegularExpressions.Match target = offsets[random.Next(offsets.Length)];
        switch (kind)
        {
            case "valid":
                break;
            case "overlap":
            {
                // A tensor that starts inside the one before it (never the first: it has nothing before it).
                target = offsets.Where(o => o.Groups[1].Value != "0").ElementAt(random.Next(offsets.Length - 1));
                long begin = long.Parse(target.Groups[1].Value), end = long.Parse(target.Groups[2].Value);
                long shift = Math.Min(begin, 4 * random.Next(1, 4));
                header = header.Replace(target.Value, $"\"data_offsets\":[{begin - shift},{end - shift}]", StringComparison.Ordinal);
                break;
            }
            case "alias":
            {
                System.Text.RegularExpressions.Match other = offsets.Where(o => o.Value != target.Value).ElementAt(random.Next(offsets.Length - 1));
                header = header.Replace(target.Value, other.Value, StringComparison.Ordinal);
                break;
            }
            case "hole":
                data = data.Concat(new byte[4]).ToArray();
                header = header.Replace(target.Value, $"\"data_offsets\":[{long.Parse(target.Groups[1].Value) + 4},{long.Parse(target.Groups[2].Value) + 4}]", StringComparison.Ordinal);
                break;
            case "trailing bytes":
                data = data.Concat(Enumerable.Range(0, random.Next(1, 64)).Select(_ => (byte)random.Next(256))).ToArray();
                break;
            case "duplicate key":
            {
                int entry = header.IndexOf("\"l0.weight\"", StringComparison.Ordinal);
                if (entry < 0) entry = header.IndexOf(",\"", StringComparison.Ordinal) + 1;
                int close = header.IndexOf('}', entry) + 1;
                header = header.Insert(close, "," + header[entry..close]);
                break;
            }
            case "unknown option":
            {
                string option = new[] { "dilation=2", "groups=2", "ceil_mode=1", "padding=1", "Stride=2" }[random.Next(5)];
                header = System.Text.RegularExpressions.Regex.Replace(header, "(Conv l\\d+|Linear l\\d+|MaxPool|AveragePool)", "$1 " + option, System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1));
                break;
            }
            case "bad option value":
                header = header.Replace("stride=1", "stride=" + new[] { "-1", "x", "1e9", "", "99999999999" }[random.Next(5)], StringComparison.Ordinal)
                    .Replace("Relu", "BatchNorm l0 eps=" + new[] { "abc", "-1", "NaN" }[random.Next(3)], StringComparison.Ordinal);
                break;
            case "huge shape":
            {
                int shape = header.IndexOf("\"shape\":[", StringComparison.Ordinal);
                int close = header.IndexOf(']', shape);
                header = header[..(shape + 9)] + new[] { "1073741824,1073741824,4", "9223372036854775807", "4294967296,4294967296" }[random.Next(3)] + header[close..];
                break;
            }
            case "dtype":
                header = header.Replace("\"F32\"", "\"" + new[] { "F16", "BF16", "I64", "Q4", "f32", "" }[random.Next(6)] + "\"", StringComparison.Ordinal);
                break;
            default:
            {
                byte[] damaged = file.ToArray();
                for (int n = random.Next(1, 6); n > 0; n--) damaged[random.Next(damaged.Length)] ^= (byte)(1 << random.Next(8));
                return damaged;
            }
        }
        byte[] headerBytes = Encoding.UTF8.GetBytes(header);
        return BitConverter.GetBytes((ulong)headerBytes.Length).Concat(headerBytes).Concat(data).ToArray();
    }
}
