using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Qtaml.Numerics;

/// <summary>
/// Arrays whose used part starts on a 64-byte boundary, for the buffers generated kernels read and write in whole
/// vectors: the baked constants, the arena of a model's values, staged inputs and weight tables. A .NET array's
/// elements start 16 bytes after its object, so an ordinary array's 64-byte vectors straddle two cache lines each
/// and every load of one costs two (ResNet-50 ran 10% slower so on an AVX-512 machine). These arrays live on the
/// pinned object heap, which never moves them, so their start stays where <see cref="Start{T}"/> found it.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class AlignedArrays
{
    /// <summary>The boundary, in bytes: a cache line, and the widest vector.</summary>
    public const int Alignment = 64;

    /// <summary>
    /// A pinned, zeroed array with room for <paramref name="length"/> elements from its aligned start
    /// (<see cref="Start{T}"/>): a boundary's worth longer than asked.
    /// </summary>
    public static T[] Allocate<T>(int length) where T : unmanaged
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "A length is zero or more.");
        return GC.AllocateArray<T>(checked(length + Alignment / Unsafe.SizeOf<T>()), pinned: true);
    }

    /// <summary>The index of the first element of <paramref name="array"/> on a 64-byte boundary; the array must come from <see cref="Allocate{T}"/>.</summary>
    public static int Start<T>(T[] array) where T : unmanaged
    {
        if (array is null) throw new ArgumentNullException(nameof(array));
        long address = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0).ToInt64();
        return (int)((Alignment - address % Alignment) % Alignment) / Unsafe.SizeOf<T>();
    }

    /// <summary>The <paramref name="length"/> elements of <paramref name="array"/> from its aligned start.</summary>
    public static Span<T> Span<T>(T[] array, int length) where T : unmanaged => array.AsSpan(Start(array), length);
}
