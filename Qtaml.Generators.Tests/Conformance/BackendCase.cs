using Google.Protobuf;
using Qtaml.Generators.Onnx.Schema;
using Qtaml.Generators.Tests.Support;

namespace Qtaml.Generators.Tests.Conformance;

/// <summary>
/// One test of the ONNX project's backend test data (vendored in Conformance/onnx-backend, Apache-2.0): a model, the
/// inputs of its test_data_set_0 and the outputs the ONNX project expects from them.
/// </summary>
internal sealed record BackendCase(string Set, string Name, string Folder)
{
    public static string Root => RepositoryPaths.Combine("Qtaml.Generators.Tests", "Conformance", "onnx-backend");

    public static readonly string[] Sets = { "pytorch-converted", "pytorch-operator" };

    public static IReadOnlyList<BackendCase> All { get; } = Sets
        .SelectMany(set => Directory.GetDirectories(Path.Combine(Root, set)).Order(StringComparer.Ordinal)
            .Select(folder => new BackendCase(set, Path.GetFileName(folder), folder)))
        .ToArray();

    public byte[] Model => File.ReadAllBytes(Path.Combine(Folder, "model.onnx"));

    public OnnxTensorFile[] Inputs => Tensors("input_");

    public OnnxTensorFile[] Outputs => Tensors("output_");

    private OnnxTensorFile[] Tensors(string prefix)
    {
        string data = Path.Combine(Folder, "test_data_set_0");
        return Enumerable.Range(0, int.MaxValue).Select(i => Path.Combine(data, prefix + i + ".pb")).TakeWhile(File.Exists).Select(OnnxTensorFile.Read).ToArray();
    }

    /// <summary>The operators the model uses, in order of first use, and the opset of its default domain.</summary>
    public (string[] Operators, long Opset) Operators()
    {
        ModelProto model = ModelProto.Parser.ParseFrom(Model);
        long opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
        return (model.Graph.Node.Select(n => n.OpType).Distinct().ToArray(), opset);
    }

    /// <summary>Whether the model has a weight Qtaml quantizes: the constant matrix of a Gemm or MatMul, a Conv kernel, an embedding table.</summary>
    public bool HasWeights()
    {
        ModelProto model = ModelProto.Parser.ParseFrom(Model);
        var constants = model.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        return model.Graph.Node.Any(n => n.OpType switch
        {
            "Gemm" or "Conv" or "ConvTranspose" => n.Input.Count > 1 && constants.Contains(n.Input[1]),
            "MatMul" => constants.Contains(n.Input[1]),
            "Gather" => constants.Contains(n.Input[0]),
            _ => false,
        });
    }

    public override string ToString() => Set + "/" + Name;
}
