using System.Text;

namespace Qtaml.Tools;

/// <summary>Writes a safetensors file: an 8-byte header length, a JSON header (metadata and tensor offsets), the data.</summary>
internal static class SafetensorsFile
{
    public static byte[] Write(IEnumerable<(string Name, long[] Shape, float[] Values)> tensors, IEnumerable<KeyValuePair<string, string>> metadata, string dtype = "F32")
    {
        var header = new StringBuilder("{\"__metadata__\":{");
        header.Append(string.Join(",", metadata.Select(kv => $"\"{kv.Key}\":\"{kv.Value}\""))).Append('}');
        var data = new MemoryStream();
        foreach ((string name, long[] shape, float[] values) in tensors)
        {
            long begin = data.Length;
            // F32 as written; F16 rounded to half precision, so a file that names another dtype still has the right byte count.
            foreach (float v in values) data.Write(dtype == "F16" ? BitConverter.GetBytes((Half)v) : BitConverter.GetBytes(v));
            header.Append(System.Globalization.CultureInfo.InvariantCulture, $",\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{begin},{data.Length}]}}");
        }
        header.Append('}');
        // The format pads the header with spaces so the data starts on an 8-byte boundary.
        while (header.Length % 8 != 0) header.Append(' ');
        byte[] headerBytes = Encoding.UTF8.GetBytes(header.ToString());
        var file = new MemoryStream();
        file.Write(BitConverter.GetBytes((ulong)headerBytes.Length));
        file.Write(headerBytes);
        data.Position = 0;
        data.CopyTo(file);
        return file.ToArray();
    }
}
