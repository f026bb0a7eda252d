using System.Buffers.Binary;
using Qtaml.Data;
using Qtaml.Faults;
using Qtaml.Moments;
using Qtaml.Sample.Models;

namespace Qtaml.Generators.Tests.Runtime;

/// <summary>
/// Saving and loading a weight image: a saved faulted image replays exactly through the generated code, and files
/// this runtime cannot read (another format version, not an image, truncated, a layout that claims more than the file
/// holds) are refused with the reason.
/// </summary>
public class WeightImageFileTests
{
    private static byte[] Saved(WeightImage image)
    {
        using var stream = new MemoryStream();
        image.Save(stream);
        return stream.ToArray();
    }

    private static WeightImage Loaded(byte[] file) => WeightImage.Load(new MemoryStream(file));

    [Theory]
    [InlineData(8, CodeEncoding.SignMagnitude)]
    [InlineData(12, CodeEncoding.TwosComplement)]
    public void An_image_round_trips_with_its_layout_encoding_and_codes(int bits, CodeEncoding encoding)
    {
        var random = new Random(5);
        int max = (1 << (bits - 1)) - 1;
        int[][] codes = { Enumerable.Range(0, 37).Select(_ => random.Next(-max, max + 1)).ToArray(), Enumerable.Range(0, 5).Select(_ => random.Next(-max, max + 1)).ToArray() };
        WeightImage source = WeightImage.FromCodes(bits, new[] { "conv", "dense ü" }, codes);
        source = WeightImage.FromBytes(bits, new[] { "conv", "dense ü" }, new[] { 37, 5 }, source.Bytes, encoding, "qtaml-layout-1:test");
        source.SetDequantization(0, new LayerDequantization(1.25f, 0.05f));
        WeightImage copy = Loaded(Saved(source));
        Assert.True(copy.HasSameLayout(source));
        Assert.Equal("qtaml-layout-1:test", copy.LayoutId);
        Assert.Equal(new LayerDequantization(1.25f, 0.05f), copy.GetDequantization(0));
        Assert.Equal(LayerDequantization.Identity, copy.GetDequantization(1));
        Assert.Equal(encoding, copy.Encoding);
        Assert.Equal(new[] { "conv", "dense ü" }, copy.Layers.Select(l => l.Name));
        Assert.True(copy.Bytes.SequenceEqual(source.Bytes));
    }

    [Fact]
    public void A_saved_faulted_image_replays_the_same_outputs_through_the_compiled_model()
    {
        (_, MnistData test) = MnistData.Load(MnistData.DefaultPath());
        WeightImage image = Digits.CreateWeightImage();
        TunnelingFaultModel.ForModel(Digits.Info, 1).Inject(image, Digits.Info.Protection, 11);
        WeightImage replay = Loaded(Saved(image));
        float[] a = new float[Digits.OutputLength], b = new float[Digits.OutputLength];
        for (int i = 0; i < 20; i++)
        {
            Digits.Run(image, test.Images[i], a);
            Digits.Run(replay, test.Images[i], b);
            Assert.Equal(a, b);
        }
        // An image of another model is refused by the model's Run, not misread.
        WeightImage mlp = Loaded(Saved(MlpNode.CreateWeightImage()));
        Assert.Contains("does not have this model's layout", Assert.Throws<ArgumentException>(() => Digits.Run(mlp, test.Images[0], a)).Message);
        // So is an image of this model's sizes laid out in another order (another generator version or kernel choice):
        // its layout id differs, and the message names both.
        byte[] file = Saved(image);
        int layoutAt = 8 + 2 + 1 + 1 + 4;
        file[layoutAt + file.AsSpan(layoutAt).IndexOf((byte)':') + 1] ^= 1;   // one hex digit of the hash
        string message = Assert.Throws<ArgumentException>(() => Digits.Run(Loaded(file), test.Images[0], a)).Message;
        Assert.Contains("it was laid out as 'qtaml-layout-1:", message);
        Assert.Contains("this model reads '" + image.LayoutId + "'", message);
    }

    [Fact]
    public void A_file_of_another_format_version_is_refused_with_both_versions()
    {
        byte[] file = Saved(Digits.CreateWeightImage());
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(8), 1);
        var error = Assert.Throws<InvalidDataException>(() => Loaded(file));
        Assert.Contains("format version 1; this Qtaml.Runtime reads version 2", error.Message);
    }

    [Fact]
    public void Files_that_are_not_images_or_claim_more_than_they_hold_are_refused_before_allocating()
    {
        Assert.Contains("not a Qtaml weight image", Assert.Throws<InvalidDataException>(() => Loaded("PK\u0003\u0004 a zip"u8.ToArray())).Message);
        byte[] file = Saved(Digits.CreateWeightImage());
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => Loaded(file[..(file.Length - 7)])).Message);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => Loaded(file[..20])).Message);
        // The first layer claims two billion weights in a file of a few kilobytes: refused from the layer table, nothing allocated.
        WeightImage cnn = Digits.CreateWeightImage();
        int firstCount = 8 + 2 + 1 + 1 + 4 + System.Text.Encoding.UTF8.GetByteCount(cnn.LayoutId) + 4 + 4 + cnn.Layers[0].Name.Length;
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(firstCount), int.MaxValue);
        Assert.Contains("lays out", Assert.Throws<InvalidDataException>(() => Loaded(file)).Message);
        // A dequantization that is not a number is refused, not handed to the kernels.
        file = Saved(cnn);
        BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(firstCount + 4), float.NaN);
        Assert.Contains("dequantization", Assert.Throws<InvalidDataException>(() => Loaded(file)).Message);
    }
}
