using System.Runtime;
using System.Runtime.InteropServices;
using Qtaml.Numerics;

namespace Qtaml.Generators.Tests.Runtime;

/// <summary>
/// The buffers generated kernels read in whole vectors (baked constants, arena, staged inputs, weight tables) start on
/// a 64-byte boundary, and stay there: a Vector512 of them is one cache line, not two.
/// </summary>
public class AlignedArraysTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(4096)]
    [InlineData(300_000)]   // the large object heap's size for ordinary arrays
    public void An_arrays_aligned_start_is_on_a_64_byte_boundary_with_room_for_the_length_asked(int length)
    {
        for (int round = 0; round < 8; round++)
        {
            float[] floats = AlignedArrays.Allocate<float>(length);
            byte[] bytes = AlignedArrays.Allocate<byte>(length);
            int floatStart = AlignedArrays.Start(floats), byteStart = AlignedArrays.Start(bytes);
            Assert.Equal(0, Marshal.UnsafeAddrOfPinnedArrayElement(floats, floatStart).ToInt64() % AlignedArrays.Alignment);
            Assert.Equal(0, Marshal.UnsafeAddrOfPinnedArrayElement(bytes, byteStart).ToInt64() % AlignedArrays.Alignment);
            Assert.InRange(floatStart, 0, AlignedArrays.Alignment / sizeof(float) - 1);
            Assert.InRange(byteStart, 0, AlignedArrays.Alignment - 1);
            Span<float> span = AlignedArrays.Span(floats, length);
            Assert.Equal(length, span.Length);
            Assert.True(span.IndexOfAnyExcept(0f) < 0, "A new array is zeroed.");
        }
    }

    [Fact]
    public void An_arrays_aligned_start_does_not_move_when_the_collector_compacts()
    {
        float[] arena = AlignedArrays.Allocate<float>(100_000);
        int start = AlignedArrays.Start(arena);
        var garbage = new List<object>();
        for (int i = 0; i < 2000; i++) garbage.Add(new float[i % 50 + 1]);
        garbage.Clear();
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        Assert.Equal(start, AlignedArrays.Start(arena));
        Assert.Equal(0, Marshal.UnsafeAddrOfPinnedArrayElement(arena, start).ToInt64() % AlignedArrays.Alignment);
    }

    [Fact]
    public void A_negative_length_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => AlignedArrays.Allocate<float>(-1));
        Assert.Throws<ArgumentNullException>(() => AlignedArrays.Start<float>(null!));
    }
}
