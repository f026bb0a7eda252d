using System.Text;

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

        var header = new StringBuilder("{\"__metadata__\":{\"qtaml.input\":\"" + string.Join(",", inputShape.Skip(1)) + "\",\"qtaml.layers\":\"" + string.Join("; ", layers) + "\"}");
        var data = new MemoryStream();
        foreach ((string name, long[] shape, float[] values) in tensors)
        {
            long begin = data.Length;
            foreach (float v in values) data.Write(BitConverter.GetBytes(v));
            header.Append($",\"{name}\":{{\"dtype\":\"{dtype ?? "F32"}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{begin},{data.Length}]}}");
        }
        header.Append('}');
        string headerText = editHeader is null ? header.ToString() : editHeader(header.ToString());
        byte[] headerBytes = Encoding.UTF8.GetBytes(headerText);
        var file = new MemoryStream();
        file.Write(BitConverter.GetBytes((ulong)headerBytes.Length));
        file.Write(headerBytes);
        data.Position = 0;
        data.CopyTo(file);
        return file.ToArray();
    }
}
