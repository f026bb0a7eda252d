extern alias gen;
using Z85 = gen::Qtaml.Generators.Emit.Z85;

namespace Qtaml.Generators.Tests.Generator;

/// <summary>
/// The baked constants are Z85 text: the encoder must be the RFC's (so the generated decoder, which follows the
/// RFC, reads back every byte), and its alphabet must be safe inside a C# string literal as it is.
/// </summary>
public class Z85Tests
{
    [Fact]
    public void Encodes_the_RFC_32_example_as_HelloWorld()
    {
        byte[] bytes = { 0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B };
        Assert.Equal("HelloWorld", Z85.Encode(bytes, 0, bytes.Length));
    }

    [Fact]
    public void Encodes_five_characters_per_four_bytes_and_pads_a_last_partial_group_with_zero_bytes()
    {
        byte[] bytes = { 0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59 };
        string text = Z85.Encode(bytes, 0, bytes.Length);
        Assert.Equal(10, text.Length);
        Assert.Equal(Z85.TextLength(6), text.Length);
        Assert.Equal(Z85.Encode(new byte[] { 0xB5, 0x59, 0, 0 }, 0, 4), text.Substring(5));
        Assert.Equal("00000", Z85.Encode(new byte[4], 0, 4));
        Assert.Equal("%nSc0", Z85.Encode(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, 0, 4));
    }

    [Fact]
    public void The_alphabet_is_85_distinct_printable_characters_none_of_which_a_CSharp_literal_must_escape()
    {
        Assert.Equal(85, Z85.Alphabet.Distinct().Count());
        Assert.All(Z85.Alphabet, c => Assert.True(c > ' ' && c < 127 && c != '"' && c != '\\', $"'{c}' needs escaping or is not printable ASCII"));
    }
}
