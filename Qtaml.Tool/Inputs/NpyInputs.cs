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

    /// <summary>
    /// The labels of <paramref name="count"/> inputs, one class index in [0, classes) per decision of
    /// <paramref name="decisions"/>: shape [N] for a model that makes one decision per input, [N, positions] for one
    /// per row (a recogniser's characters), read input by input.
    /// </summary>
    public static int[] Labels(string path, int count, DecisionLayout decisions)
    {
        NpyArray array = Read(path, count);
        string shape = decisions.Positions == 1 ? "[N]" : $"[N, {decisions.Positions}]";
        string what = decisions.Positions == 1 ? "one class index per input" : $"one class index per decision: the model makes {decisions.Positions} per input (one per row of its final softmax)";
        if (array.RowLength != decisions.Positions) throw new ToolException($"'{path}' holds {array.RowLength} values per row; labels are {what} (shape {shape}).");
        if (array.Rows < count) throw new ToolException($"'{path}' holds {array.Rows} rows of labels for {count} inputs; give labels for every input (shape {shape}).");
        var labels = new int[count * decisions.Positions];
        for (int i = 0; i < count; i++)
        {
            double[] row = array.Row(i);
            for (int p = 0; p < row.Length; p++)
            {
                double value = row[p];
                if (value != Math.Floor(value) || value < 0 || value >= decisions.Classes)
                    throw new ToolException($"Label {(decisions.Positions == 1 ? i.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"[{i}, {p}]")} of '{path}' is {value}; labels are class indices from 0 to {decisions.Classes - 1} (each decision chooses among {decisions.Classes} outputs).");
                labels[i * decisions.Positions + p] = (int)value;
            }
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
