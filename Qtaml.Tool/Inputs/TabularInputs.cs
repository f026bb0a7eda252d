using System.Globalization;
using Qtaml.Tool.Cli;

namespace Qtaml.Tool.Inputs;

/// <summary>
/// Model inputs from text (one input per CSV line) and from raw little-endian float32 files, checked against the
/// input length a model takes. Pure conversions: the command reads the files and writes the .npy.
/// </summary>
internal static class TabularInputs
{
    private static readonly char[] Separators = { ',', ';', '\t', ' ' };

    /// <summary>
    /// One input per non-blank line, values separated by commas, semicolons, tabs or spaces (invariant culture, so
    /// 0.5 not 0,5). A first line that is not numbers is a header and skipped. Every line holds
    /// <paramref name="rowLength"/> values, or, when that is null, as many as the first.
    /// </summary>
    public static (float[] Values, int Rows, int RowLength) ReadCsv(TextReader text, string source, int? rowLength, int maxRows)
    {
        var values = new List<float>();
        int rows = 0, lineNumber = 0;
        string? line;
        while ((line = text.ReadLine()) is not null && rows < maxRows)
        {
            lineNumber++;
            string[] fields = line.Split(Separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (fields.Length == 0) continue;
            bool numeric = float.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _);
            if (!numeric && lineNumber == 1) continue;   // a header
            rowLength ??= fields.Length;
            if (fields.Length != rowLength)
                throw new ToolException($"Line {lineNumber} of '{source}' holds {fields.Length} values; every input needs {rowLength}{(rowLength == fields.Length ? "" : " (the input shape's length)")}.");
            foreach (string field in fields)
            {
                if (!float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
                    throw new ToolException($"Line {lineNumber} of '{source}' holds '{Shorten(field)}', which is not a number (write 0.5, not 0,5).");
                if (!float.IsFinite(value)) throw new ToolException($"Line {lineNumber} of '{source}' holds {field}; inputs must be finite numbers.");
                values.Add(value);
            }
            rows++;
        }
        if (rows == 0) throw new ToolException($"'{source}' holds no inputs: write one input per line, its values separated by commas.");
        return (values.ToArray(), rows, rowLength!.Value);
    }

    /// <summary>Raw little-endian float32 values, inputs one after another, each <paramref name="rowLength"/> long.</summary>
    public static (float[] Values, int Rows) ReadRaw(ReadOnlySpan<byte> bytes, string source, int rowLength, int maxRows)
    {
        long rowBytes = (long)rowLength * sizeof(float);
        if (bytes.Length == 0 || bytes.Length % rowBytes != 0)
            throw new ToolException($"'{source}' is {bytes.Length} bytes, not a whole number of inputs of {rowLength} float32 values ({rowBytes} bytes each).");
        int rows = (int)Math.Min(bytes.Length / rowBytes, maxRows);
        var values = new float[rows * rowLength];
        for (int i = 0; i < values.Length; i++)
        {
            float value = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * sizeof(float)));
            if (!float.IsFinite(value)) throw new ToolException($"Input {i / rowLength} of '{source}' holds {value} at value {i % rowLength}; inputs must be finite numbers.");
            values[i] = value;
        }
        return (values, rows);
    }

    private static string Shorten(string text) => text.Length <= 24 ? text : text[..24] + "...";
}
