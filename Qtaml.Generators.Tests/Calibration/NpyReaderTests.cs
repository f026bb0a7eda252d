extern alias gen;
using System.Text;
using Qtaml.Calibration;
using Qtaml.Tools;
using NpyReader = gen::Qtaml.Generators.Calibration.NpyReader;

namespace Qtaml.Generators.Tests.Calibration;

/// <summary>The .npy reader: the layouts numpy.save writes, and hostile files refused with the reason before anything is allocated.</summary>
public class NpyReaderTests
{
    private static readonly float[] Values = Enumerable.Range(0, 24).Select(i => i * 0.5f - 3).ToArray();

    /// <summary>A .npy file with any header text and data, as a hostile or foreign writer might make it.</summary>
    private static byte[] Npy(string header, byte[] data, int major = 1)
    {
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0 };
        byte[] text = Encoding.ASCII.GetBytes(header + "\n");
        if (major == 1) bytes.AddRange(BitConverter.GetBytes((ushort)text.Length));
        else bytes.AddRange(BitConverter.GetBytes((uint)text.Length));
        bytes.AddRange(text);
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    private static byte[] Floats(IEnumerable<float> values, bool bigEndian = false) =>
        values.SelectMany(v => { byte[] b = BitConverter.GetBytes(v); if (bigEndian) Array.Reverse(b); return b; }).ToArray();

    [Fact]
    public void Reads_what_numpy_save_writes_row_by_row()
    {
        var array = NpyReader.Read(NpyFile.ToBytes(Values, 4, 2, 3), maxRows: 100);
        Assert.Equal(new[] { 4, 2, 3 }, array.Shape);
        Assert.Equal(4, array.Rows);
        Assert.Equal(6, array.RowLength);
        Assert.Equal(Values.Skip(12).Take(6).Select(v => (double)v), array.Row(2));
    }

    [Fact]
    public void Keeps_only_the_first_rows_asked_for()
    {
        var array = NpyReader.Read(NpyFile.ToBytes(Values, 4, 6), maxRows: 3);
        Assert.Equal(3, array.Rows);
        Assert.Equal(new[] { 3, 6 }, array.Shape);
        Assert.Equal(Values.Skip(12).Take(6).Select(v => (double)v), array.Row(2));
    }

    [Fact]
    public void Reads_float64_big_endian_and_version_2_headers()
    {
        byte[] doubles = Values.SelectMany(v => BitConverter.GetBytes((double)v)).ToArray();
        Assert.Equal(Values[5], NpyReader.Read(Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4, 6), }", doubles), 10).Row(0)[5]);
        Assert.Equal(Values[7], NpyReader.Read(Npy("{'descr': '>f4', 'fortran_order': False, 'shape': (4, 6), }", Floats(Values, bigEndian: true)), 10).Row(1)[1]);
        Assert.Equal(Values[7], NpyReader.Read(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (24,), }", Floats(Values), major: 2), 10).Row(7)[0]);
    }

    [Fact]
    public void Reads_integer_labels_of_every_width_and_sign()
    {
        long[] labels = { 0, 7, -3, 9 };
        Assert.Equal(new[] { 0.0, 7, -3, 9 }, Enumerable.Range(0, 4).Select(r => NpyReader.Read(Npy("{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }", labels.SelectMany(BitConverter.GetBytes).ToArray()), 10).Row(r)[0]));
        Assert.Equal(9, NpyReader.Read(Npy("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", new byte[] { 0, 7, 200, 9 }), 10).Row(3)[0]);
        Assert.Equal(200, NpyReader.Read(Npy("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", new byte[] { 0, 7, 200, 9 }), 10).Row(2)[0]);
        Assert.Equal(-2, NpyReader.Read(Npy("{'descr': '>i2', 'fortran_order': False, 'shape': (2,), }", new byte[] { 0xFF, 0xFE, 0, 1 }), 10).Row(0)[0]);
    }

    [Theory]
    [InlineData("{'descr': '<c8', 'fortran_order': False, 'shape': (4, 3), }", "type '<c8'")]
    [InlineData("{'descr': '<f2', 'fortran_order': False, 'shape': (4, 12), }", "type '<f2'")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (4, 6), }", "Fortran order")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 7), }", "needs 112 bytes of values and the file holds 96")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647), }", "and the file holds 96")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (4, -6), }", "not a tuple of sizes")]
    [InlineData("{'descr': '<f4', 'fortran_order': False}", "no 'shape' entry")]
    public void Refuses_files_it_cannot_read_and_says_why(string header, string reason)
    {
        var error = Assert.Throws<FormatException>(() => NpyReader.Read(Npy(header, Floats(Values)), 10));
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Refuses_a_file_that_is_not_npy_or_whose_header_overruns_it()
    {
        Assert.Contains("magic", Assert.Throws<FormatException>(() => NpyReader.Read(Encoding.ASCII.GetBytes("not a numpy file at all"), 10)).Message);
        byte[] truncated = NpyFile.ToBytes(Values, 4, 6).Take(40).ToArray();
        Assert.Contains("truncated", Assert.Throws<FormatException>(() => NpyReader.Read(truncated, 10)).Message);
    }
}
