extern alias gen;
using Qtaml.Generators.Tests.Support;
using Qtaml.Tool.Build;
using AttributedType = gen::Qtaml.Generators.Model.AttributedType;
using ModelRequest = gen::Qtaml.Generators.Model.ModelRequest;
using QtamlGenerator = gen::Qtaml.Generators.TunnelingCompensatedGenerator;

namespace Qtaml.Generators.Tests.Tool;

/// <summary>
/// The attribute text qtaml writes for a build reads back, through the generator's own parser, as the typed request
/// the tool meant: node or flip probability, width, budget, target, shape pin, calibration, encoding, and the float
/// reference beside it. The tool's options and the generator's request cannot drift apart silently.
/// </summary>
public class AttributeTextRoundTripTests
{
    private static List<ModelRequest> Requests(string source)
    {
        GeneratorHarness.Result result = GeneratorHarness.Run(source, Array.Empty<Microsoft.CodeAnalysis.AdditionalText>());
        return result.Run.Results.Single().TrackedSteps[QtamlGenerator.TrackingNames.Requests]
            .SelectMany(step => step.Outputs).Select(output => ((AttributedType)output.Value).Request).ToList();
    }

    [Theory]
    [InlineData("2nm", 0.0, 8, 1.0, null, null)]
    [InlineData("3nm", 0.0, 6, 0.375, "x=1,3,48,320", "inputs.npy")]
    [InlineData(null, 0.05, 4, 0.0, "1,10", null)]
    public void The_tools_attribute_text_reads_back_as_the_request_it_meant(string? node, double flipProbability, int bits, double budget, string? inputShape, string? calibration)
    {
        var request = new BuildRequest("digits.onnx", Array.Empty<byte>(), new FaultEnvironment(node, flipProbability), bits, budget,
            calibration, calibration is null ? null : new byte[] { 1 }, inputShape, TargetAgreement: 0.9);
        WeightEncoding[] encodings = { WeightEncoding.Automatic, WeightEncoding.TwosComplement, WeightEncoding.SignMagnitude };
        List<ModelRequest> parsed = Requests(request.Source(encodings));

        Assert.Equal(encodings.Length + 1, parsed.Count);
        for (int i = 0; i < encodings.Length; i++)
        {
            ModelRequest r = parsed[i];
            Assert.Equal(BuildRequest.ClassName(encodings[i]), r.Target.Name);
            Assert.Equal(request.ProjectPath, r.ModelPath);
            Assert.Equal(node, r.Node);
            Assert.Equal(node is null ? flipProbability : null, r.FlipProbability);
            Assert.Equal(bits, r.Bits);
            Assert.Equal(budget, r.EccBudget);
            Assert.Equal(0.9, r.TargetAgreement);
            Assert.Equal(inputShape, r.InputShape);
            Assert.Equal(calibration is null ? null : BuildRequest.CalibrationProjectPath, r.Calibration);
            Assert.Equal((int)encodings[i], r.Encoding ?? 0);
            Assert.True(r.Quantize);
        }
        ModelRequest reference = parsed[^1];
        Assert.Equal(BuildRequest.ClassName(null), reference.Target.Name);
        Assert.False(reference.Quantize);
        Assert.Equal(inputShape, reference.InputShape);
    }
}
