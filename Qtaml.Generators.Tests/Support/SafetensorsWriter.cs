using System.Text;
using Qtaml.Tools;

namespace Qtaml.Generators.Tests.Support;

/// <summary>Writes a test model's weights as a safetensors checkpoint, with the layer sequence in __metadata__.</summary>
internal static class SafetensorsWriter
{
    public static byte[] Write(IReadOnlyList<ReferenceOp> ops, long[] inputShape, string? dtype = null, Func<string, string>? editHeader = null)
    {
        var tensors = new List<(string Name, long[] Shape, float[] Values)>();
        var layers = new List<string>();
        int index = 0;
        foreach (ReferenceOp op in ops)
        {
            string name = "l" + index++;
            switch (op)
            {
                case ReferenceOp.Dense d:
                    layers.Add("Linear " + name);
                    tensors.Add((name + ".weight", new long[] { d.Out, d.In }, d.W));
                    tensors.Add((name + ".bias", new long[] { d.Out }, d.B));
                    break;
                case ReferenceOp.Conv c:
                    layers.Add($"Conv {name} stride={c.Stride} pad={c.Pad}");
                    tensors.Add((name + ".weight", new long[] { c.OutC, c.InC, c.K, c.K }, c.W));
                    tensors.Add((name + ".bias", new long[] { c.OutC }, c.B));
                    break;
                case ReferenceOp.Relu: layers.Add("Relu"); break;
                case ReferenceOp.Softmax: layers.Add("Softmax"); break;
                case ReferenceOp.Flatten: layers.Add("Flatten"); break;
                case ReferenceOp.Pool p: layers.Add($"{(p.Max ? "MaxPool" : "AveragePool")} k={p.K} stride={p.Stride}"); break;
                default: throw new NotSupportedException(op.ToString());
            }
        }

        byte[] file = SafetensorsFile.Write(tensors, new Dictionary<string, string>
        {
            ["qtaml.input"] = string.Join(",", inputShape.Skip(1)),
            ["qtaml.layers"] = string.Join("; ", layers),
        }, dtype ?? "F32");
        if (editHeader is null) return file;
        // Rewrite the header text (and its length) for the tests of hostile files.
        int length = (int)BitConverter.ToUInt64(file, 0);
        byte[] header = Encoding.UTF8.GetBytes(editHeader(Encoding.UTF8.GetString(file, 8, length)));
        return BitConverter.GetBytes((ulong)header.Length).Concat(header).Concat(file.Skip(8 + length)).ToArray();
    }
}
