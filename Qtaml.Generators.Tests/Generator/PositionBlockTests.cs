extern alias gen;
using ConvKernels = gen::Qtaml.Generators.Emit.Kernels.ConvKernels;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// A table convolution takes its output positions in blocks whose accumulators fill the registers; a map that is not
/// whole blocks ends with a block overlapping the one before, computing its positions twice. One position fewer per
/// block is taken where it saves at least 3% of the positions computed (ConvKernels.LeastOverlap).
/// </summary>
public sealed class PositionBlockTests
{
    [Theory]
    [InlineData(49, 6, 5)]     // a 7x7 map (ResNet-50's last stage): 50 positions computed, not 54
    [InlineData(40, 6, 5)]     // a recogniser's 40 columns: 40, not 42
    [InlineData(196, 6, 6)]    // 14x14: 198 against 200, no saving
    [InlineData(169, 6, 6)]    // 13x13: 174 against 170 saves 2.3%, under the 3% that pays for the shorter block
    [InlineData(3136, 6, 6)]   // 56x56: whole blocks but for one position
    [InlineData(16, 6, 6)]     // 4x4: 18 against 20
    [InlineData(6, 6, 6)]      // a map of one block
    [InlineData(49, 4, 4)]     // blocks of 4 or fewer (16 registers) are kept as they are
    public void A_block_one_position_shorter_is_taken_where_it_computes_3_percent_fewer_positions(int positions, int block, int expected)
    {
        Assert.Equal(expected, ConvKernels.LeastOverlap(positions, block));
    }
}
