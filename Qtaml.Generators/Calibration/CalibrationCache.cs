using System;
using System.Collections.Generic;
using System.Threading;
using Qtaml.Generators.Network;

namespace Qtaml.Generators.Calibration;

/// <summary>
/// The calibration profiles of the last few (model, calibration file, input pins) the generator measured. A project
/// often compiles one model into several classes (a float reference, builds at several budgets or allocators), and
/// the profile depends only on the files, not on the budget: measured once, it serves them all. Keyed by the files'
/// full content, so a changed file is measured again; bounded, so a long-lived compiler server keeps little.
/// </summary>
internal static class CalibrationCache
{
    private const int Capacity = 4;
    private static readonly LinkedList<(string Key, CalibrationProfile Profile)> Entries = new();

    public static CalibrationProfile GetOrMeasure(string modelBase64, string calibrationBase64, string pins, NetworkGraph graph, NpyArray rows, CancellationToken cancellationToken)
    {
        string key = Hash(modelBase64) + ":" + Hash(calibrationBase64) + ":" + pins;
        lock (Entries)
        {
            for (LinkedListNode<(string Key, CalibrationProfile Profile)>? node = Entries.First; node is not null; node = node.Next)
                if (node.Value.Key == key)
                {
                    Entries.Remove(node);
                    Entries.AddFirst(node);
                    return node.Value.Profile;
                }
        }
        CalibrationProfile profile = CalibrationProfile.Measure(graph, rows, cancellationToken);
        lock (Entries)
        {
            Entries.AddFirst((key, profile));
            while (Entries.Count > Capacity) Entries.RemoveLast();
        }
        return profile;
    }

    /// <summary>The length and a 64-bit FNV-1a hash of the text: with the length, a collision of two real files is not a practical concern.</summary>
    private static string Hash(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in text) hash = (hash ^ c) * 1099511628211UL;
        return text.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/" + hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }
}
