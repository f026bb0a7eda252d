extern alias gen;
using Google.Protobuf;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Generators.Tests.Support;
using BuildDefaults = gen::Qtaml.Generators.Model.BuildDefaults;
using CompileInput = gen::Qtaml.Generators.Model.CompileInput;
using GenerationResult = gen::Qtaml.Generators.Model.GenerationResult;
using ModelRequest = gen::Qtaml.Generators.Model.ModelRequest;
using WeightFileText = gen::Qtaml.Generators.Model.WeightFileText;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// A seeded mutation corpus through the generator's compile step: every file gives a diagnostic or valid
/// output, never an exception, never a hang. The step is called directly, without the safety net the
/// pipeline puts around it, so a bug shows up here as the exception it is.
/// </summary>
public class HostileFileTests
{
    private const int Cases = 10_000;

    [Fact]
    public async Task Ten_thousand_mutated_weight_files_each_give_a_diagnostic_or_valid_output()
    {
        OnnxModelBuilder mlp = TestModels.Mlp(), cnn = new OnnxModelBuilder(new long[] { 1, 1, 6, 6 }, 4).Conv(1, 2, 3).Relu().MaxPool(2, 2).Flatten().Gemm(8, 3).Softmax();
        (string Path, byte[] Bytes)[] seeds =
        {
            ("m.onnx", mlp.Build(new long[] { 1, 10 })),
            ("c.onnx", cnn.Build(new long[] { 1, 3 })),
            ("m.safetensors", SafetensorsWriter.Write(mlp.Ops, mlp.InputShape)),
            ("c.safetensors", SafetensorsWriter.Write(cnn.Ops, cnn.InputShape)),
            ("t.onnx", TinyEncoder.Build(6)),
        };
        int diagnosed = 0, generated = 0;
        var seenIds = new HashSet<string>();
        for (int i = 0; i < Cases; i++)
        {
            var random = new Random(i);
            (string path, byte[] original) = seeds[i % seeds.Length];
            (byte[] mutated, string how) = Mutate(original, path, random);
            var input = new CompileInput(ModelRequest.ForFile(path), new WeightFileText(path, Convert.ToBase64String(mutated)), new BuildDefaults(null, null, null));

            GenerationResult result;
            try
            {
                result = await BoundedCompile.Run(input, $"case {i} ({path}, {how})");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Assert.Fail($"case {i} ({path}, {how}) threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
                throw;
            }

            var errors = result.Diagnostics.Where(d => d.Descriptor.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error).ToArray();
            Assert.True(result.Source is not null || errors.Length > 0, $"case {i} ({path}, {how}) gave neither code nor an error");
            // A failed model still declares its members (each throwing the error), so no follow-on errors appear.
            Assert.True(errors.Length == 0 || result.Source!.Contains("Qtaml could not compile this model", StringComparison.Ordinal), $"case {i} ({path}, {how}) gave model code and an error");
            if (errors.Length > 0) diagnosed++; else generated++;
            foreach (var d in errors) seenIds.Add(d.Descriptor.Id);
        }
        // The corpus reaches both outcomes and several kinds of diagnosis.
        Assert.True(diagnosed > Cases / 4 && generated > Cases / 20, $"{diagnosed} diagnosed, {generated} generated");
        Assert.Superset(new HashSet<string> { "QTAML002", "QTAML003", "QTAML005" }, seenIds);
    }

    private static (byte[] Bytes, string How) Mutate(byte[] original, string path, Random random)
    {
        byte[] bytes = (byte[])original.Clone();
        int kind = random.Next(path.EndsWith(".onnx", StringComparison.Ordinal) ? 8 : 7);
        switch (kind)
        {
            case 0:
                return (bytes.AsSpan(0, random.Next(bytes.Length)).ToArray(), "truncated");
            case 1:
                for (int n = random.Next(1, 9); n > 0; n--) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return (bytes, "bit flips");
            case 2:
                for (int n = random.Next(1, 5); n > 0; n--) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return (bytes, "bytes overwritten");
            case 3:
            {
                // A run of 0xFF: a varint or a length that claims terabytes.
                int at = random.Next(bytes.Length);
                for (int k = 0; k < 9 && at + k < bytes.Length; k++) bytes[at + k] = 0xFF;
                return (bytes, "huge length");
            }
            case 4:
            {
                int start = random.Next(bytes.Length), length = random.Next(1, Math.Min(64, bytes.Length - start) + 1);
                return (bytes.Take(start + length).Concat(bytes.Skip(start)).ToArray(), "chunk duplicated");
            }
            case 5:
                return (bytes.Concat(Enumerable.Range(0, random.Next(1, 100)).Select(_ => (byte)random.Next(256))).ToArray(), "garbage appended");
            case 6 when path.EndsWith(".safetensors", StringComparison.Ordinal):
            {
                ulong[] claims = { 0, 1, 7, ulong.MaxValue, 1UL << 40, (ulong)bytes.Length, (ulong)random.Next(bytes.Length) };
                BitConverter.GetBytes(claims[random.Next(claims.Length)]).CopyTo(bytes, 0);
                return (bytes, "header length");
            }
            default:
                return (MutateOnnxStructure(bytes, random, out string how), how);
        }
    }

    /// <summary>Well-formed protobuf with wrong content: the mutations a careless exporter or an attacker makes.</summary>
    private static byte[] MutateOnnxStructure(byte[] bytes, Random random, out string how)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(bytes);
        GraphProto graph = model.Graph;
        switch (random.Next(9))
        {
            case 0:
            {
                var dims = graph.Initializer[random.Next(graph.Initializer.Count)].Dims;
                long claim = new[] { -1L, 0, long.MaxValue, 1L << 40, 3 }[random.Next(5)];
                if (dims.Count == 0) dims.Add(claim); else dims[0] = claim;   // a scalar gains an axis
                how = "bad dimension";
                break;
            }
            case 1:
                graph.Initializer[random.Next(graph.Initializer.Count)].DataType = random.Next(0, 17);
                how = "data type";
                break;
            case 2:
                graph.Node[random.Next(graph.Node.Count)].OpType = new[] { "Tanh", "LSTM", "", "Conv", "Gemm", "Add", "Softmax" }[random.Next(7)];
                how = "operator";
                break;
            case 3:
                graph.Initializer.RemoveAt(random.Next(graph.Initializer.Count));
                how = "missing initializer";
                break;
            case 4:
            {
                // A cycle or a dangling input: a node that reads its own output or a name nobody writes.
                NodeProto node = graph.Node[random.Next(graph.Node.Count)];
                node.Input[0] = random.Next(2) == 0 ? node.Output[0] : "nowhere";
                how = "cycle or missing input";
                break;
            }
            case 5:
            {
                var attribute = new AttributeProto { Name = new[] { "kernel_shape", "strides", "pads", "transB", "axis", "group" }[random.Next(6)], Type = AttributeProto.Types.AttributeType.Ints };
                attribute.Ints.Add(Enumerable.Range(0, random.Next(0, 5)).Select(_ => new[] { -1L, 0, 1, 2, long.MaxValue, 1L << 33 }[random.Next(6)]));
                attribute.I = new[] { -1L, 0, 1, 2, long.MaxValue }[random.Next(5)];
                graph.Node[random.Next(graph.Node.Count)].Attribute.Add(attribute);
                how = "attribute values";
                break;
            }
            case 6:
            {
                TensorProto tensor = graph.Initializer[random.Next(graph.Initializer.Count)];
                byte[] raw = tensor.RawData.ToByteArray();
                if (raw.Length >= 4) BitConverter.GetBytes(new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, 1e-45f }[random.Next(5)]).CopyTo(raw, 4 * random.Next(raw.Length / 4));
                tensor.RawData = ByteString.CopyFrom(raw);
                how = "non-finite weight";
                break;
            }
            case 7:
                graph.Input[0].Type.TensorType.Shape.Dim[random.Next(graph.Input[0].Type.TensorType.Shape.Dim.Count)].DimValue = new[] { -5L, 0, 1L << 31, 1L << 26, 7 }[random.Next(5)];
                how = "input shape";
                break;
            default:
                graph.Node.Add(graph.Node[random.Next(graph.Node.Count)].Clone());
                how = "node repeated";
                break;
        }
        return model.ToByteArray();
    }
}
