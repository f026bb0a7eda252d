extern alias gen;
using gen::Qtaml.Generators.Calibration;
using Qtaml.Tool.Cli;

namespace Qtaml.Tool.Inputs;

/// <summary>Inputs and labels from .npy files, read with the same hostile-safe reader a build reads calibration with.</summary>
internal static class NpyInputs
{
    /// <summary>Rows of <paramref name="path"/>, each of <paramref name="rowLength"/> values; at most <paramref name="maxRows"/>.</summary>
    public static float[][] Rows(string path, int rowLength, int maxRows)
    {
        NpyArray array = Read(path, maxRows);
        if (array.Rows == 0) throw new ToolException($"'{path}' holds no rows; save at least one input.");
        if (array.RowLength != rowLength)
            throw new ToolException($"'{path}' holds rows of {array.RowLength} values (shape [{string.Join(", ", array.Shape)}]); the model takes {rowLength} per input. Save an array of shape [N, ...input shape].");
        var rows = new float[array.Rows][];
        for (int r = 0; r < rows.Length; r++)
        {
            double[] row = array.Row(r);
            rows[r] = new float[row.Length];
            for (int i = 0; i < row.Length; i++)
            {
                if (!double.IsFinite(row[i])) throw new ToolException($"Row {r} of '{path}' holds {row[i]}; inputs must be finite numbers.");
                rows[r][i] = (float)row[i];
            }
        }
        return rows;
    }

    /// <summary>One class index per input: a vector of <paramref name="count"/> whole numbers in [0, <paramref name="classes"/>).</summary>
    public static int[] Labels(string path, int count, int classes)
    {
        NpyArray array = Read(path, count);
        if (array.RowLength != 1) throw new ToolException($"'{path}' holds {array.RowLength} values per row; labels are one class index per input (shape [N]).");
        if (array.Rows < count) throw new ToolException($"'{path}' holds {array.Rows} labels for {count} inputs; give one label per input.");
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            double value = array.Row(i)[0];
            if (value != Math.Floor(value) || value < 0 || value >= classes)
                throw new ToolException($"Label {i} of '{path}' is {value}; labels are class indices from 0 to {classes - 1} (the model has {classes} outputs).");
            labels[i] = (int)value;
        }
        return labels;
    }

    private static NpyArray Read(string path, int maxRows)
    {
        byte[] bytes = ToolFiles.Read(path, "array");
        try
        {
            return NpyReader.Read(bytes, maxRows);
        }
        catch (FormatException error)
        {
            throw new ToolException($"'{path}' cannot be read: {error.Message}.");
        }
    }
}
