using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Qtaml.Moments;

namespace Qtaml.Faults;

/// <summary>
/// A <see cref="WeightImage"/> saved to a stream and read back: an engineer keeps a faulted image to replay it, or
/// moves one between machines. The format is versioned, so an image saved by another layout version of Qtaml is refused
/// with a message instead of being read as garbage. Little-endian throughout:
/// <code>
///   "QTAMLIMG"  u16 format version (2)  u8 bits  u8 encoding (0 two's complement, 1 sign-magnitude)
///   i32 layout id length, UTF-8 layout id (<see cref="WeightImage.LayoutId"/>)
///   i32 layers, then per layer: i32 name length, UTF-8 name, i32 weights, f32 scale factor, f32 code offset
///   i64 code bytes, then the image's bytes exactly as <see cref="WeightImage.Bytes"/> holds them (padding included)
/// </code>
/// A file is untrusted: every field is checked against the bytes actually present before anything is allocated.
/// </summary>
public static class WeightImageFile
{
    /// <summary>The format version this runtime writes and reads.</summary>
    /// <remarks>Version 2 added the layout id and each layer's dequantization (runtime plans); version 1 files are refused.</remarks>
    public const int FormatVersion = 2;

    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("QTAMLIMG");
    private const int MaxLayers = 1 << 16, MaxNameBytes = 4096;

    /// <summary>Writes <paramref name="image"/> to <paramref name="stream"/>.</summary>
    public static void Save(WeightImage image, Stream stream)
    {
        if (image is null) throw new ArgumentNullException(nameof(image));
        if (stream is null) throw new ArgumentNullException(nameof(stream));
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write((ushort)FormatVersion);
        writer.Write((byte)image.Bits);
        writer.Write((byte)image.Encoding);
        byte[] layout = Encoding.UTF8.GetBytes(image.LayoutId);
        writer.Write(layout.Length);
        writer.Write(layout);
        writer.Write(image.Layers.Count);
        for (int l = 0; l < image.Layers.Count; l++)
        {
            byte[] name = Encoding.UTF8.GetBytes(image.Layers[l].Name);
            writer.Write(name.Length);
            writer.Write(name);
            writer.Write(image.Layers[l].Count);
            LayerDequantization dequantization = image.GetDequantization(l);
            writer.Write(dequantization.ScaleFactor);
            writer.Write(dequantization.CodeOffset);
        }
        writer.Write((long)image.Bytes.Length);
        writer.Write(image.Bytes);
    }

    /// <summary>Reads an image that <see cref="Save"/> wrote.</summary>
    /// <exception cref="InvalidDataException">The stream is not a weight image this runtime reads; the message says why.</exception>
    public static WeightImage Load(Stream stream)
    {
        if (stream is null) throw new ArgumentNullException(nameof(stream));
        // What the stream holds is read first: a claimed size is then checked against bytes that exist.
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        byte[] file = buffer.ToArray();
        int at = 0;
        ReadOnlySpan<byte> Take(int count, string what)
        {
            if (count < 0 || file.Length - at < count) throw new InvalidDataException($"The weight image ends inside {what}: the file is truncated.");
            at += count;
            return file.AsSpan(at - count, count);
        }

        if (file.Length < Magic.Length || !file.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new InvalidDataException("This is not a Qtaml weight image (it does not start with \"QTAMLIMG\"); save one with WeightImageFile.Save.");
        at = Magic.Length;
        int version = BinaryPrimitives.ReadUInt16LittleEndian(Take(2, "the header"));
        if (version != FormatVersion)
            throw new InvalidDataException($"The weight image was saved in format version {version}; this Qtaml.Runtime reads version {FormatVersion}. Save it again with this version of Qtaml, or read it with the version that wrote it.");
        int bits = Take(1, "the header")[0];
        int encoding = Take(1, "the header")[0];
        if (bits < 2 || bits > 16) throw new InvalidDataException($"The weight image claims {bits}-bit codes; Qtaml stores 2 to 16.");
        if (encoding > (int)CodeEncoding.SignMagnitude) throw new InvalidDataException($"The weight image claims encoding {encoding}, which this Qtaml.Runtime does not know.");
        int layoutLength = BinaryPrimitives.ReadInt32LittleEndian(Take(4, "the header"));
        if (layoutLength < 0 || layoutLength > MaxNameBytes) throw new InvalidDataException($"The layout id claims {layoutLength} bytes; it is at most {MaxNameBytes}.");
        string layoutId = Encoding.UTF8.GetString(Take(layoutLength, "the header"));
        int layers = BinaryPrimitives.ReadInt32LittleEndian(Take(4, "the header"));
        if (layers < 1 || layers > MaxLayers) throw new InvalidDataException($"The weight image claims {layers} layers; an image holds 1 to {MaxLayers}.");

        var names = new List<string>();
        var counts = new List<int>();
        var dequantizations = new List<LayerDequantization>();
        long codeBytes = 0;
        int bytesPerCode = bits <= 8 ? 1 : 2;
        for (int l = 0; l < layers; l++)
        {
            int nameLength = BinaryPrimitives.ReadInt32LittleEndian(Take(4, "the layer table"));
            if (nameLength < 0 || nameLength > MaxNameBytes) throw new InvalidDataException($"Layer {l}'s name claims {nameLength} bytes; names are at most {MaxNameBytes}.");
            names.Add(Encoding.UTF8.GetString(Take(nameLength, "the layer table")));
            int count = BinaryPrimitives.ReadInt32LittleEndian(Take(4, "the layer table"));
            if (count < 1) throw new InvalidDataException($"Layer {l} claims {count} weights.");
            counts.Add(count);
            var dequantization = new LayerDequantization(BinaryPrimitives.ReadSingleLittleEndian(Take(4, "the layer table")), BinaryPrimitives.ReadSingleLittleEndian(Take(4, "the layer table")));
            if (!(float.IsFinite(dequantization.ScaleFactor) && dequantization.ScaleFactor > 0) || !float.IsFinite(dequantization.CodeOffset))
                throw new InvalidDataException($"Layer {l} claims the dequantization {dequantization}; the scale factor must be positive and both finite.");
            dequantizations.Add(dequantization);
            codeBytes += ((long)count * bytesPerCode + WeightImage.Alignment - 1) / WeightImage.Alignment * WeightImage.Alignment;
        }
        long declared = BinaryPrimitives.ReadInt64LittleEndian(Take(8, "the header"));
        if (declared != codeBytes)
            throw new InvalidDataException($"The weight image declares {declared} bytes of codes, but its layer table lays out {codeBytes}.");
        if (file.Length - at != codeBytes)
            throw new InvalidDataException($"The weight image's layers need {codeBytes} bytes of codes and {file.Length - at} follow: the file is truncated or has trailing bytes.");
        // Only now, with the bytes known to be there, is the image allocated.
        WeightImage image = WeightImage.FromBytes(bits, names, counts, file.AsSpan(at), (CodeEncoding)encoding, layoutId);
        for (int l = 0; l < dequantizations.Count; l++) image.SetDequantization(l, dequantizations[l]);
        return image;
    }
}
