using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Qtaml.Moments;

namespace Qtaml.Faults;

/// <summary>
/// The stored bits of a network's weights, layer after layer, exactly as memory holds them: one
/// b-bit two's-complement pattern per weight in a byte (b ≤ 8) or a 16-bit word (b ≤ 16), higher bits
/// zero. Each layer starts on a 32-byte boundary so the fault injector can work a vector at a time.
/// A fault campaign makes one image per worker and restores it with <see cref="CopyFrom"/> between
/// trials, which allocates nothing.
/// </summary>
/// <remarks>
/// An image also carries what reading it needs: each layer's dequantization (<see cref="GetDequantization"/>: the
/// factor on the quantization scale and the offset added to every read code, which mean correction chooses per plan)
/// and a <see cref="LayoutId"/> naming the order in which a compiled model's kernels read the codes. So one compiled
/// class runs the image of any plan (<see cref="Qtaml.Plans.QuantizedModel"/>), and refuses an image laid out for
/// another model or by another version of the generator.
/// </remarks>
public sealed class WeightImage
{
    /// <summary>Every layer starts at a multiple of this many bytes.</summary>
    public const int Alignment = 32;

    private readonly byte[] _storage;
    private readonly WeightSegment[] _segments;
    /// <summary>Per layer, the scale factor and the code offset: two floats, as generated kernels take them.</summary>
    private readonly float[] _dequantization;

    private WeightImage(int bits, WeightSegment[] segments, byte[] storage, CodeEncoding encoding, string layoutId, float[]? dequantization = null)
    {
        Encoding = encoding;
        Bits = bits;
        _segments = segments;
        _storage = storage;
        LayoutId = layoutId;
        _dequantization = dequantization ?? Identity(segments.Length);
    }

    private static float[] Identity(int layers)
    {
        var table = new float[2 * layers];
        for (int l = 0; l < layers; l++) table[2 * l] = 1f;
        return table;
    }

    /// <summary>Allocates a zeroed image for layers of the given sizes.</summary>
    /// <param name="bits">The bit width b of every code, 2..16.</param>
    /// <param name="layerNames">One name per layer.</param>
    /// <param name="layerCounts">The number of weights in each layer (at least 1).</param>
    public static WeightImage Allocate(int bits, IReadOnlyList<string> layerNames, IReadOnlyList<int> layerCounts)
    {
        StoredCode.ValidateBits(bits);
        if (layerNames is null) throw new ArgumentNullException(nameof(layerNames));
        if (layerCounts is null) throw new ArgumentNullException(nameof(layerCounts));
        if (layerNames.Count != layerCounts.Count)
            throw new ArgumentException($"{layerNames.Count} layer names were given for {layerCounts.Count} layer sizes; give one name per layer.", nameof(layerNames));
        if (layerCounts.Count == 0) throw new ArgumentException("A weight image holds at least one layer.", nameof(layerCounts));

        int bytesPerCode = bits <= 8 ? 1 : 2;
        var segments = new WeightSegment[layerCounts.Count];
        long offset = 0;
        for (int l = 0; l < segments.Length; l++)
        {
            int count = layerCounts[l];
            if (count < 1) throw new ArgumentOutOfRangeException(nameof(layerCounts), count, $"Layer {l} must hold at least one weight.");
            segments[l] = new WeightSegment(layerNames[l] ?? string.Empty, (int)offset, count, bytesPerCode);
            offset += ((long)count * bytesPerCode + Alignment - 1) / Alignment * Alignment;
            if (offset > Array.MaxLength)
                throw new ArgumentException("The layers together exceed the largest array .NET can allocate; split the model.", nameof(layerCounts));
        }
        return new WeightImage(bits, segments, new byte[offset], CodeEncoding.TwosComplement, string.Empty);
    }

    /// <summary>Creates an image holding the given codes, each in [−2^{b−1}, 2^{b−1}).</summary>
    public static WeightImage FromCodes(int bits, IReadOnlyList<string> layerNames, IReadOnlyList<IReadOnlyList<int>> layerCodes)
    {
        if (layerCodes is null) throw new ArgumentNullException(nameof(layerCodes));
        var counts = new int[layerCodes.Count];
        for (int l = 0; l < counts.Length; l++)
            counts[l] = (layerCodes[l] ?? throw new ArgumentException($"Layer {l} has no codes.", nameof(layerCodes))).Count;
        WeightImage image = Allocate(bits, layerNames, counts);
        for (int l = 0; l < counts.Length; l++)
            for (int i = 0; i < counts[l]; i++)
                image.SetCode(l, i, layerCodes[l][i]);
        return image;
    }

    /// <summary>
    /// Creates an image from its raw bytes, laid out as <see cref="Bytes"/> lays them out (generated code
    /// bakes exactly that layout).
    /// </summary>
    public static WeightImage FromBytes(int bits, IReadOnlyList<string> layerNames, IReadOnlyList<int> layerCounts, ReadOnlySpan<byte> bytes)
        => FromBytes(bits, layerNames, layerCounts, bytes, CodeEncoding.TwosComplement);

    /// <summary>An image from its raw bytes, whose codes are stored in <paramref name="encoding"/>.</summary>
    public static WeightImage FromBytes(int bits, IReadOnlyList<string> layerNames, IReadOnlyList<int> layerCounts, ReadOnlySpan<byte> bytes, CodeEncoding encoding)
        => FromBytes(bits, layerNames, layerCounts, bytes, encoding, string.Empty);

    /// <summary>
    /// An image from its raw bytes, stored in <paramref name="encoding"/> in the order <paramref name="layoutId"/> names
    /// (what generated code bakes; see <see cref="LayoutId"/>). Every layer's dequantization starts as (1, 0).
    /// </summary>
    public static WeightImage FromBytes(int bits, IReadOnlyList<string> layerNames, IReadOnlyList<int> layerCounts, ReadOnlySpan<byte> bytes, CodeEncoding encoding, string layoutId)
    {
        if (layoutId is null) throw new ArgumentNullException(nameof(layoutId));
        WeightImage allocated = Allocate(bits, layerNames, layerCounts);
        var image = new WeightImage(bits, allocated._segments, allocated._storage, encoding, layoutId);
        if (bytes.Length != image._storage.Length)
            throw new ArgumentException($"The layers need {image._storage.Length} bytes with padding, but {bytes.Length} were given; the bytes must come from an image of the same layout.", nameof(bytes));
        bytes.CopyTo(image._storage);
        return image;
    }

    /// <summary>How each code is laid out in its bits (the fault model flips bits; what a flip does to a weight depends on this).</summary>
    public CodeEncoding Encoding { get; }

    /// <summary>The bit width b of every code.</summary>
    public int Bits { get; }

    /// <summary>
    /// Names the order in which the codes of each layer are stored (a compiled model's kernels read them in their own
    /// order): empty for an image made by hand, else what the generated class's <c>CreateWeightImage</c> sets. Two images
    /// line up only when their layout ids are equal.
    /// </summary>
    public string LayoutId { get; }

    /// <summary>
    /// Every layer's dequantization, two floats per layer (scale factor, code offset) in layer order: what a generated
    /// <c>Run(image, ...)</c> hands its kernels.
    /// </summary>
    public ReadOnlySpan<float> Dequantization => _dequantization;

    /// <summary>How layer <paramref name="layer"/>'s read codes become weights: ŵ = s_c · ScaleFactor · (q~ + CodeOffset).</summary>
    public LayerDequantization GetDequantization(int layer)
    {
        Segment(layer);
        return new LayerDequantization(_dequantization[2 * layer], _dequantization[2 * layer + 1]);
    }

    /// <summary>Sets how layer <paramref name="layer"/>'s read codes become weights (mean correction's choice for the plan the codes were stored for).</summary>
    public void SetDequantization(int layer, LayerDequantization dequantization)
    {
        Segment(layer);
        if (!(float.IsFinite(dequantization.ScaleFactor) && dequantization.ScaleFactor > 0))
            throw new ArgumentOutOfRangeException(nameof(dequantization), dequantization.ScaleFactor, "The scale factor must be a positive finite number.");
        if (!float.IsFinite(dequantization.CodeOffset))
            throw new ArgumentOutOfRangeException(nameof(dequantization), dequantization.CodeOffset, "The code offset must be finite.");
        _dequantization[2 * layer] = dequantization.ScaleFactor;
        _dequantization[2 * layer + 1] = dequantization.CodeOffset;
    }

    /// <summary>1 for b ≤ 8, 2 for b ≤ 16.</summary>
    public int BytesPerCode => Bits <= 8 ? 1 : 2;

    /// <summary>The layers, in network order.</summary>
    public IReadOnlyList<WeightSegment> Layers => _segments;

    /// <summary>The total number of stored weights.</summary>
    public long WeightCount
    {
        get
        {
            long total = 0;
            foreach (WeightSegment segment in _segments) total += segment.Count;
            return total;
        }
    }

    /// <summary>The image's bytes, padding included (padding is always zero).</summary>
    public ReadOnlySpan<byte> Bytes => _storage;

    /// <summary>
    /// <see cref="Bytes"/> as memory, which (unlike a span) can be handed to other threads: a generated model's run on
    /// a <see cref="Threading.WorkerPool"/> converts each layer's codes on several threads at once.
    /// </summary>
    public ReadOnlyMemory<byte> Memory => _storage;

    /// <summary>The code of weight <paramref name="index"/> of layer <paramref name="layer"/>, sign-extended.</summary>
    public int GetCode(int layer, int index)
    {
        WeightSegment segment = Segment(layer);
        if ((uint)index >= (uint)segment.Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"Layer {layer} holds {segment.Count} weights.");
        int pattern = BytesPerCode == 1
            ? _storage[segment.ByteOffset + index]
            : MemoryMarshal.Cast<byte, ushort>(_storage.AsSpan(segment.ByteOffset, segment.Count * 2))[index];
        return CodeEncodings.FromPattern(pattern, Bits, Encoding);
    }

    /// <summary>Stores a code, which must fit in b bits.</summary>
    public void SetCode(int layer, int index, int code)
    {
        WeightSegment segment = Segment(layer);
        if ((uint)index >= (uint)segment.Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"Layer {layer} holds {segment.Count} weights.");
        int pattern = CodeEncodings.ToPattern(code, Bits, Encoding);
        if (BytesPerCode == 1) _storage[segment.ByteOffset + index] = (byte)pattern;
        else MemoryMarshal.Cast<byte, ushort>(_storage.AsSpan(segment.ByteOffset, segment.Count * 2))[index] = (ushort)pattern;
    }

    /// <summary>The raw 8-bit patterns of a layer (b ≤ 8); for b = 8 each byte read as <see cref="sbyte"/> is the code.</summary>
    public ReadOnlySpan<byte> Patterns8(int layer)
    {
        if (BytesPerCode != 1) throw new InvalidOperationException($"This image stores {Bits}-bit codes in 16-bit words; use {nameof(Patterns16)}.");
        WeightSegment segment = Segment(layer);
        return _storage.AsSpan(segment.ByteOffset, segment.Count);
    }

    /// <summary>The raw 16-bit patterns of a layer (b &gt; 8); for b = 16 each word read as <see cref="short"/> is the code.</summary>
    public ReadOnlySpan<ushort> Patterns16(int layer)
    {
        if (BytesPerCode != 2) throw new InvalidOperationException($"This image stores {Bits}-bit codes in bytes; use {nameof(Patterns8)}.");
        WeightSegment segment = Segment(layer);
        return MemoryMarshal.Cast<byte, ushort>(_storage.AsSpan(segment.ByteOffset, segment.Count * 2));
    }

    /// <summary>Overwrites this image (codes and dequantization) with another of the same layout (restoring a clean image between trials).</summary>
    public void CopyFrom(WeightImage source)
    {
        if (source is null) throw new ArgumentNullException(nameof(source));
        if (!HasSameLayout(source))
            throw new ArgumentException("The source image has a different bit width or layer layout; copy only between images of the same model.", nameof(source));
        source._storage.AsSpan().CopyTo(_storage);
        source._dequantization.AsSpan().CopyTo(_dequantization);
    }

    /// <summary>Writes the image to a stream in a versioned format (<see cref="WeightImageFile"/>), to replay or move it.</summary>
    public void Save(System.IO.Stream stream) => WeightImageFile.Save(this, stream);

    /// <summary>Reads an image <see cref="Save"/> wrote; one saved by another format version is refused with the reason.</summary>
    public static WeightImage Load(System.IO.Stream stream) => WeightImageFile.Load(stream);

    /// <summary>A deep copy.</summary>
    public WeightImage Clone() => new(Bits, _segments, (byte[])_storage.Clone(), Encoding, LayoutId, (float[])_dequantization.Clone());

    /// <summary>Whether another image has the same bit width, encoding, layers and layout id, so codes line up.</summary>
    public bool HasSameLayout(WeightImage other)
    {
        if (other is null || other.Bits != Bits || other.Encoding != Encoding || other._segments.Length != _segments.Length || other.LayoutId != LayoutId) return false;
        for (int l = 0; l < _segments.Length; l++)
            if (other._segments[l].Count != _segments[l].Count) return false;
        return true;
    }

    /// <summary>
    /// Why <paramref name="image"/> cannot be read as <paramref name="expected"/>'s layout, for the message a generated
    /// <c>Run</c> throws: the first difference found, and where a fitting image comes from (<paramref name="remedy"/>).
    /// </summary>
    public static string LayoutMismatch(WeightImage image, WeightImage expected, string remedy)
    {
        if (image is null) throw new ArgumentNullException(nameof(image));
        if (expected is null) throw new ArgumentNullException(nameof(expected));
        string why = image.Bits != expected.Bits ? $"it stores {image.Bits}-bit codes and this model {expected.Bits}-bit ones"
            : image.Encoding != expected.Encoding ? $"its codes are in {image.Encoding} and this model's in {expected.Encoding}"
            : image._segments.Length != expected._segments.Length ? $"it holds {image._segments.Length} layers and this model {expected._segments.Length}"
            : image.LayoutId != expected.LayoutId ? $"it was laid out as '{image.LayoutId}' and this model reads '{expected.LayoutId}' (another model, or the same model compiled by another version or with other kernels)"
            : "its layer sizes differ from this model's";
        return $"The weight image does not have this model's layout: {why}. Make it with {remedy}.";
    }

    /// <summary>A layer's bytes without padding: what generated code reads.</summary>
    public ReadOnlySpan<byte> LayerBytes(int layer)
    {
        WeightSegment segment = Segment(layer);
        return _storage.AsSpan(segment.ByteOffset, segment.ByteLength);
    }

    /// <summary>A layer's bytes with its padding up to the next 32-byte boundary: what the injector works on.</summary>
    internal Span<byte> PaddedSegment(int layer)
    {
        WeightSegment segment = Segment(layer);
        int end = layer + 1 < _segments.Length ? _segments[layer + 1].ByteOffset : _storage.Length;
        return _storage.AsSpan(segment.ByteOffset, end - segment.ByteOffset);
    }

    private WeightSegment Segment(int layer)
    {
        if ((uint)layer >= (uint)_segments.Length) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"The image holds {_segments.Length} layers.");
        return _segments[layer];
    }
}

/// <summary>How a layer's read codes become weights: ŵ = s_c · <see cref="ScaleFactor"/> · (q~ + <see cref="CodeOffset"/>), s_c the channel's quantization scale.</summary>
/// <param name="ScaleFactor">The factor on the quantization scale: 1/(1 − p10 − p01) for a layer mean correction leaves unprotected, else 1.</param>
/// <param name="CodeOffset">Added to every read code: p01 for such a layer, else 0.</param>
public readonly record struct LayerDequantization(float ScaleFactor, float CodeOffset)
{
    /// <summary>Codes read as they are: (1, 0).</summary>
    public static LayerDequantization Identity => new(1f, 0f);
}

/// <summary>Where one layer's codes live in a <see cref="WeightImage"/>.</summary>
/// <param name="Name">The layer's name.</param>
/// <param name="ByteOffset">The first byte of the layer.</param>
/// <param name="Count">The number of weights.</param>
/// <param name="BytesPerCode">1 or 2.</param>
public readonly record struct WeightSegment(string Name, int ByteOffset, int Count, int BytesPerCode)
{
    /// <summary>The bytes the layer's codes occupy, without padding.</summary>
    public int ByteLength => Count * BytesPerCode;
}
