using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Safetensors;

/// <summary>
/// Reads a safetensors checkpoint into a <see cref="NetworkGraph"/>. A checkpoint holds tensors but no graph,
/// so the layer sequence comes from two entries of the header's <c>__metadata__</c> (documented in the README):
/// <code>
///   "qtaml.input":  "1,28,28"                       the input shape without the batch dimension
///   "qtaml.layers": "Conv conv1 pad=1; Relu; MaxPool k=2; Flatten; Linear fc1; Relu; Linear fc2; Softmax"
/// </code>
/// A weight layer named <c>fc1</c> reads <c>fc1.weight</c> (PyTorch layout: [out, in] or [out, in, kh, kw])
/// and, if present, <c>fc1.bias</c>; <c>BatchNorm bn1</c> reads <c>bn1.weight</c>, <c>bn1.bias</c>,
/// <c>bn1.running_mean</c> and <c>bn1.running_var</c>. The file is untrusted: the header length, every offset and
/// every shape are checked against the bytes actually present before anything is allocated.
/// </summary>
internal static class SafetensorsReader
{
    /// <summary>Headers above this size are refused (the format's own reference limit is 100 MB).</summary>
    private const long MaxHeaderBytes = 100L * 1024 * 1024;

    private static readonly char[] LayerSeparators = { ';' };
    private static readonly char[] WordSeparators = { ' ', '\t', '\n', '\r' };
    private static readonly char[] OptionSeparator = { '=' };
    private static readonly char[] ShapeSeparators = { ',', 'x', ' ' };

    private static readonly int[] OneSample = { 1 };

    private sealed record TensorEntry(string DType, int[] Shape, long Begin, long End);

    public static NetworkGraph Read(string path, byte[] bytes)
    {
        (Dictionary<string, TensorEntry> tensors, Dictionary<string, string> metadata, long dataStart) = ReadHeader(path, bytes);
        if (!metadata.TryGetValue("qtaml.input", out string? inputText) || !metadata.TryGetValue("qtaml.layers", out string? layersText))
            throw new ModelReadException(Diagnostics.MalformedFile, path,
                "the checkpoint's __metadata__ has no 'qtaml.input' and 'qtaml.layers' entries declaring the layer sequence (see the README: safetensors)");

        // qtaml.input declares one sample; the network computes it as a batch of one, (1, ...), as an ONNX export would.
        int[] inputShape = OneSample.Concat(ParseShape(path, inputText)).ToArray();
        var network = new NetworkBuilder(path, inputShape);
        var reader = new TensorReader(path, bytes, dataStart, tensors);
        int index = 0;
        foreach (string declaration in layersText.Split(LayerSeparators, StringSplitOptions.RemoveEmptyEntries))
        {
            string[] words = declaration.Split(WordSeparators, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) continue;
            string op = words[0];
            string name = words.Length > 1 && !words[1].Contains("=") ? words[1] : op.ToLowerInvariant() + index;
            string? stray = words.Skip(words.Length > 1 && !words[1].Contains("=") ? 2 : 1).FirstOrDefault(w => !w.Contains("="));
            if (stray is not null) throw network.Mismatch(name, "the declaration '" + declaration.Trim() + "' has the word '" + stray + "' where an option (key=value) belongs");
            var options = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (string[] option in words.Skip(1).Where(w => w.Contains("=")).Select(w => w.Split(OptionSeparator, 2)))
            {
                if (options.ContainsKey(option[0])) throw network.Mismatch(name, "the option " + option[0] + " is given twice");
                options[option[0]] = option[1];
            }
            AddLayer(path, network, reader, op, name, options);
            index++;
        }
        return network.Build();
    }

    /// <summary>The values the checkpoint's tensors hold, from its header alone (each tensor's byte range over its dtype's size).</summary>
    public static long StoredValues(string path, byte[] bytes)
    {
        long total = 0;
        foreach (TensorEntry entry in ReadHeader(path, bytes).Item1.Values)
            total += (entry.End - entry.Begin) / (DTypeSizes.TryGetValue(entry.DType, out int size) ? size : 1);
        return total;
    }

    /// <summary>The options each declared layer understands; any other is a diagnostic naming these.</summary>
    private static readonly Dictionary<string, string[]> LayerOptions = new(StringComparer.Ordinal)
    {
        ["Linear"] = Array.Empty<string>(),
        ["Gemm"] = Array.Empty<string>(),
        ["Conv"] = new[] { "stride", "pad" },
        ["BatchNorm"] = new[] { "eps" },
        ["BatchNormalization"] = new[] { "eps" },
        ["MaxPool"] = new[] { "k", "stride", "pad" },
        ["AveragePool"] = new[] { "k", "stride", "pad" },
        ["Relu"] = Array.Empty<string>(),
        ["Softmax"] = Array.Empty<string>(),
        ["Flatten"] = Array.Empty<string>(),
    };

    private static ModelReadException Unsupported(string path, string op, string name) =>
        UnsupportedOperators.Exception(path, new[] { (op, name) }, string.Join(", ", LayerOptions.Keys.OrderBy(k => k, StringComparer.Ordinal)));

    private static void AddLayer(string path, NetworkBuilder network, TensorReader reader, string op, string name, Dictionary<string, string> options)
    {
        if (!LayerOptions.TryGetValue(op, out string[]? accepted)) throw Unsupported(path, op, name);
        foreach (string key in options.Keys)
            if (Array.IndexOf(accepted, key) < 0)
                throw network.Mismatch(name, op + " has no option '" + key + "'" + (accepted.Length == 0 ? "; it takes none" : "; it takes " + string.Join(", ", accepted)));

        int Option(string key, int fallback)
        {
            if (!options.TryGetValue(key, out string? text)) return fallback;
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < 0 || value > 1 << 16)
                throw network.Mismatch(name, "the option " + key + "=" + text + " is not a whole number between 0 and 65536");
            return value;
        }

        switch (op)
        {
            case "Linear":
            case "Gemm":
            {
                (int[] dims, float[] w) = reader.Float(name + ".weight", name);
                if (dims.Length != 2) throw network.Mismatch(name, "the weight has shape " + Shape.Format(dims) + "; a matrix [out, in] is needed");
                network.Dense(name, op, w, dims[0], dims[1], reader.OptionalFloat(name + ".bias", name));
                break;
            }
            case "Conv":
            {
                (int[] dims, float[] w) = reader.Float(name + ".weight", name);
                int stride = Option("stride", 1), pad = Option("pad", 0);
                if (dims.Length != 4) throw network.Mismatch(name, "the weight has shape " + Shape.Format(dims) + "; a 2-D convolution's [out, in, kh, kw] is needed");
                network.Conv(name, w, dims, reader.OptionalFloat(name + ".bias", name), new Window(dims[2], dims[3], stride, stride, pad, pad), new[] { pad, pad, pad, pad });
                break;
            }
            case "BatchNorm":
            case "BatchNormalization":
            {
                float epsilon = 1e-5f;
                if (options.TryGetValue("eps", out string? eps) && !(float.TryParse(eps, NumberStyles.Float, CultureInfo.InvariantCulture, out epsilon) && epsilon >= 0 && !float.IsInfinity(epsilon)))
                    throw network.Mismatch(name, "the option eps=" + eps + " is not a finite number of zero or more");
                network.FoldBatchNormalization(name, reader.Float(name + ".weight", name).Values, reader.Float(name + ".bias", name).Values,
                    reader.Float(name + ".running_mean", name).Values, reader.Float(name + ".running_var", name).Values, epsilon);
                break;
            }
            case "MaxPool":
            case "AveragePool":
            {
                int k = Option("k", 2), stride = Option("stride", k), pad = Option("pad", 0);
                network.Pool(name, op == "MaxPool" ? PoolKind.Max : PoolKind.Average, new Window(k, k, stride, stride, pad, pad), new[] { pad, pad, pad, pad }, false);
                break;
            }
            case "Relu": network.Relu(name); break;
            case "Softmax": network.Softmax(name); break;
            case "Flatten": network.Flatten(name); break;
            default:
                throw Unsupported(path, op, name);
        }
    }

    private static int[] ParseShape(string path, string text)
    {
        string[] parts = text.Split(ShapeSeparators, StringSplitOptions.RemoveEmptyEntries);
        var shape = new int[parts.Length];
        long total = 1;
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out shape[i]) || shape[i] < 1)
                throw new ModelReadException(Diagnostics.MalformedFile, path, "'qtaml.input' = '" + text + "' is not a list of positive sizes");
            total *= shape[i];
            if (total > 64L * 1024 * 1024) throw new ModelReadException(Diagnostics.MalformedFile, path, "'qtaml.input' declares more values than Qtaml supports");
        }
        if (shape.Length == 0) throw new ModelReadException(Diagnostics.MalformedFile, path, "'qtaml.input' is empty");
        return shape;
    }

    private static (Dictionary<string, TensorEntry>, Dictionary<string, string>, long) ReadHeader(string path, byte[] bytes)
    {
        if (bytes.Length < 8) throw new ModelReadException(Diagnostics.MalformedFile, path, "the file is shorter than the 8-byte header length");
        ulong headerLength = BitConverter.ToUInt64(bytes, 0);
        if (!BitConverter.IsLittleEndian) headerLength = Reverse(headerLength);
        if (headerLength > (ulong)MaxHeaderBytes || headerLength > (ulong)(bytes.Length - 8))
            throw new ModelReadException(Diagnostics.MalformedFile, path, "the header claims " + headerLength + " bytes but the file holds " + (bytes.Length - 8) + " after the length");

        object root;
        try
        {
            root = HeaderJson.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength));
        }
        catch (FormatException e)
        {
            throw new ModelReadException(Diagnostics.MalformedFile, path, "its JSON header is invalid (" + e.Message + ")");
        }
        if (root is not Dictionary<string, object> entries) throw new ModelReadException(Diagnostics.MalformedFile, path, "its JSON header is not an object");

        long dataStart = 8 + (long)headerLength, dataLength = bytes.Length - dataStart;
        var tensors = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, object> entry in entries)
        {
            if (entry.Key == "__metadata__")
            {
                if (entry.Value is not Dictionary<string, object> meta) throw new ModelReadException(Diagnostics.MalformedFile, path, "__metadata__ is not an object");
                foreach (var kv in meta)
                    metadata[kv.Key] = kv.Value as string ?? throw new ModelReadException(Diagnostics.MalformedFile, path, "__metadata__ values must be strings");
                continue;
            }
            if (entry.Value is not Dictionary<string, object> info
                || !(info.TryGetValue("dtype", out object? dtype) && dtype is string dtypeText)
                || !(info.TryGetValue("shape", out object? shapeValue) && shapeValue is List<object> shapeList)
                || !(info.TryGetValue("data_offsets", out object? offsetValue) && offsetValue is List<object> offsets && offsets.Count == 2
                     && offsets[0] is long begin && offsets[1] is long end))
                throw new ModelReadException(Diagnostics.MalformedFile, path, "the entry for tensor '" + entry.Key + "' lacks dtype, shape or data_offsets");
            if (begin < 0 || end < begin || end > dataLength)
                throw new ModelReadException(Diagnostics.MalformedFile, path, "tensor '" + entry.Key + "' claims bytes " + begin + ".." + end + " of a " + dataLength + "-byte data section");
            var shape = new int[shapeList.Count];
            for (int i = 0; i < shape.Length; i++)
            {
                if (shapeList[i] is not long d || d < 0 || d > int.MaxValue) throw new ModelReadException(Diagnostics.MalformedFile, path, "tensor '" + entry.Key + "' has a bad dimension");
                shape[i] = (int)d;
            }
            if (!DTypeSizes.TryGetValue(dtypeText, out int size))
                throw new ModelReadException(Diagnostics.MalformedFile, path, "tensor '" + entry.Key + "' has the dtype '" + dtypeText + "', which the safetensors format does not define");
            // The shape's byte count, capped so a hostile shape cannot overflow: it must be exactly the range's length.
            long expected = size;
            foreach (int d in shape) expected = Math.Min(expected * d, long.MaxValue / (1L << 32));
            if (expected != end - begin)
                throw new ModelReadException(Diagnostics.MalformedFile, path, "tensor '" + entry.Key + "' has shape " + Shape.Format(shape) + " of " + dtypeText + " but " + (end - begin) + " bytes");
            tensors.Add(entry.Key, new TensorEntry(dtypeText, shape, begin, end));
        }
        CheckContiguous(path, tensors, dataLength);
        return (tensors, metadata, dataStart);
    }

    /// <summary>Bytes per element of each dtype the format defines.</summary>
    private static readonly Dictionary<string, int> DTypeSizes = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1,
        ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["I32"] = 4, ["U32"] = 4, ["F32"] = 4,
        ["I64"] = 8, ["U64"] = 8, ["F64"] = 8,
    };

    /// <summary>
    /// The format's layout rule: the tensors' byte ranges tile the data section exactly, in some order, with no
    /// overlap (two names for the same bytes), no hole and nothing after the last tensor.
    /// </summary>
    private static void CheckContiguous(string path, Dictionary<string, TensorEntry> tensors, long dataLength)
    {
        long at = 0;
        foreach (KeyValuePair<string, TensorEntry> t in tensors.OrderBy(t => t.Value.Begin).ThenBy(t => t.Value.End))
        {
            if (t.Value.Begin < at)
                throw new ModelReadException(Diagnostics.MalformedFile, path, "tensor '" + t.Key + "' overlaps the bytes of another tensor (from byte " + t.Value.Begin + ")");
            if (t.Value.Begin > at)
                throw new ModelReadException(Diagnostics.MalformedFile, path, "the data section has a hole of " + (t.Value.Begin - at) + " bytes before tensor '" + t.Key + "'");
            at = t.Value.End;
        }
        if (at != dataLength)
            throw new ModelReadException(Diagnostics.MalformedFile, path, "the data section has " + (dataLength - at) + " bytes after its last tensor");
    }

    private static ulong Reverse(ulong value)
    {
        byte[] b = BitConverter.GetBytes(value);
        Array.Reverse(b);
        return BitConverter.ToUInt64(b, 0);
    }

    private sealed class TensorReader
    {
        private readonly string _path;
        private readonly byte[] _bytes;
        private readonly long _dataStart;
        private readonly Dictionary<string, TensorEntry> _tensors;

        public TensorReader(string path, byte[] bytes, long dataStart, Dictionary<string, TensorEntry> tensors)
        {
            _path = path;
            _bytes = bytes;
            _dataStart = dataStart;
            _tensors = tensors;
        }

        public float[]? OptionalFloat(string tensor, string layer) => _tensors.ContainsKey(tensor) ? Float(tensor, layer).Values : null;

        public (int[] Dims, float[] Values) Float(string tensor, string layer)
        {
            if (!_tensors.TryGetValue(tensor, out TensorEntry? entry))
                throw new ModelReadException(Diagnostics.ShapeMismatch, _path, layer, "the checkpoint has no tensor '" + tensor + "'");
            if (entry.DType != "F32") throw new ModelReadException(Diagnostics.UnsupportedDataType, _path, tensor, entry.DType);
            // The header check made the shape's byte count equal the range's length, which the file's size bounds.
            long count = (entry.End - entry.Begin) / 4;
            var values = new float[count];
            Buffer.BlockCopy(_bytes, (int)(_dataStart + entry.Begin), values, 0, (int)(entry.End - entry.Begin));
            if (!BitConverter.IsLittleEndian) throw new ModelReadException(Diagnostics.MalformedFile, _path, "big-endian hosts are not supported");
            if (values.Any(v => float.IsNaN(v) || float.IsInfinity(v))) throw new ModelReadException(Diagnostics.NonFiniteWeights, _path, tensor);
            return (entry.Shape, values);
        }
    }
}
