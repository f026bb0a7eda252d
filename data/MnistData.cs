using System;
using System.IO;
using System.IO.Compression;

namespace Qtaml.Data;

/// <summary>
/// The 10,000 MNIST digits of data/mnist-10k.bin.gz (see data/convert-mnist.mjs), split once, seeded: a fixed
/// shuffle with seed 2026, the first 8,000 for training and the last 2,000 for testing. Pixels are 0..1.
/// </summary>
public sealed class MnistData
{
    public const int Pixels = 28 * 28;
    public const int TrainCount = 8000;
    public const int SplitSeed = 2026;

    private MnistData(float[][] images, byte[] labels)
    {
        Images = images;
        Labels = labels;
    }

    public float[][] Images { get; }
    public byte[] Labels { get; }
    public int Count => Labels.Length;

    public static (MnistData Train, MnistData Test) Load(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new BinaryReader(gzip);
        string magic = new string(reader.ReadChars(8));
        if (magic != "QMNIST1\n") throw new InvalidDataException($"{path} is not a Qtaml MNIST file (made by data/convert-mnist.mjs).");
        int count = reader.ReadInt32();
        if (count <= TrainCount || count > 100_000) throw new InvalidDataException($"{path} holds {count} digits; expected 10,000.");
        var images = new float[count][];
        var labels = new byte[count];
        for (int n = 0; n < count; n++)
        {
            labels[n] = reader.ReadByte();
            byte[] pixels = reader.ReadBytes(Pixels);
            if (pixels.Length != Pixels) throw new InvalidDataException($"{path} ends inside digit {n}.");
            images[n] = Array.ConvertAll(pixels, p => p / 255f);
        }

        // Fisher–Yates with a fixed seed: the same split on every machine.
        int[] order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        var random = new Random(SplitSeed);
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        MnistData Take(int start, int length)
        {
            var subsetImages = new float[length][];
            var subsetLabels = new byte[length];
            for (int i = 0; i < length; i++)
            {
                subsetImages[i] = images[order[start + i]];
                subsetLabels[i] = labels[order[start + i]];
            }
            return new MnistData(subsetImages, subsetLabels);
        }
        return (Take(0, TrainCount), Take(TrainCount, count - TrainCount));
    }

    /// <summary>Finds data/mnist-10k.bin.gz from the working directory or the program's folder upwards.</summary>
    public static string DefaultPath()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "data", "mnist-10k.bin.gz");
                if (File.Exists(candidate)) return candidate;
            }
        }
        throw new FileNotFoundException("data/mnist-10k.bin.gz was not found above the working directory; run from the repository.");
    }
}
