using Qtaml.Data;
using Qtaml.Faults;
using Qtaml.Physics;
using Qtaml.Plans;
using Qtaml.Sample.Models;
using Qtaml.Tac;

namespace Qtaml.Generators.Tests.Plans;

/// <summary>
/// Runtime plans: a compiled class exposes its quantized model, the runtime lays out the image of any plan from it,
/// and the class runs that image. The build's own plan comes out bit for bit, and one class run on another plan's
/// image computes exactly what the class compiled for that plan computes.
/// </summary>
public class RuntimePlanTests
{
    private static FlipProbabilities Compensated(ModelInfo info) => new(info.P10, info.P01);

    private static WeightImage BuildsOwnPlan<TModel>() where TModel : ICompiledModel
    {
        ModelInfo info = TModel.Info;
        return TModel.Quantized.CreateImage(Enum.Parse<Allocator>(info.Allocator), info.EccBudget, Compensated(info));
    }

    private static void AssertSameImage(WeightImage expected, WeightImage actual)
    {
        Assert.True(actual.HasSameLayout(expected));
        Assert.True(actual.Bytes.SequenceEqual(expected.Bytes), "the stored codes differ");
        for (int l = 0; l < expected.Layers.Count; l++) Assert.Equal(expected.GetDequantization(l), actual.GetDequantization(l));
    }

    [Fact]
    public void The_runtime_lays_out_each_builds_own_plan_bit_for_bit()
    {
        // TAC, Uniform-MSP, magnitude and no protection at p = 0.10 symmetric (p01 > 0: unprotected layers read with
        // a code offset), the calibrated 2 nm node builds (window average), the MLP and the encoder.
        AssertSameImage(CnnTac025.CreateWeightImage(), BuildsOwnPlan<CnnTac025>());
        AssertSameImage(CnnUniform200.CreateWeightImage(), BuildsOwnPlan<CnnUniform200>());
        AssertSameImage(CnnMagnitude075.CreateWeightImage(), BuildsOwnPlan<CnnMagnitude075>());
        AssertSameImage(CnnNone000.CreateWeightImage(), BuildsOwnPlan<CnnNone000>());
        AssertSameImage(Digits.CreateWeightImage(), BuildsOwnPlan<Digits.Compiled>());
        AssertSameImage(MlpNode.CreateWeightImage(), BuildsOwnPlan<MlpNode>());
        AssertSameImage(TransformerNode.CreateWeightImage(), BuildsOwnPlan<TransformerNode>());
    }

    [Fact]
    public void One_class_runs_another_plans_image_exactly_as_the_class_compiled_for_it()
    {
        (_, MnistData test) = MnistData.Load(MnistData.DefaultPath());
        // CnnTac025 was compiled for TAC at 0.25 bits/weight; here it runs magnitude-based at 0.75 and no protection at
        // all, the plans of two classes compiled in the same encoding (sign-magnitude: a plan keeps the class's encoding).
        foreach ((WeightImage image, Func<float[], float[]> compiled) in new (WeightImage, Func<float[], float[]>)[]
        {
            (CnnTac025.Quantized.CreateImage(Allocator.MagnitudeBased, 0.75, FlipProbabilities.Symmetric(0.10)), x => Outputs(x, CnnMagnitude075.Run)),
            (CnnTac025.Quantized.CreateImage(Allocator.None, 0, FlipProbabilities.Symmetric(0.10)), x => Outputs(x, CnnNone000.Run)),
        })
        {
            Assert.Equal(CnnTac025.Info.Encoding, image.Encoding);
            for (int i = 0; i < 50; i++)
            {
                float[] fromImage = new float[CnnTac025.OutputLength];
                CnnTac025.Run(image, test.Images[i], fromImage);
                Assert.Equal(compiled(test.Images[i]), fromImage);
            }
        }
    }

    private delegate void Baked(ReadOnlySpan<float> input, Span<float> output);

    private static float[] Outputs(float[] input, Baked run)
    {
        float[] output = new float[10];
        run(input, output);
        return output;
    }

    [Fact]
    public void A_plan_image_keeps_the_classs_encoding_and_layout_and_what_the_plan_protects()
    {
        // A two's-complement class (Uniform-MSP at 1 bit/weight): mean correction of an unprotected layer is affine there.
        QuantizedModel model = CnnUniform100.Quantized;
        Assert.Equal(Moments.CodeEncoding.TwosComplement, model.Encoding);
        Assert.Equal(CnnUniform100.Info.Layers.Select(l => l.Sensitivity), model.Sensitivities);
        ProtectionPlan plan = model.Design(Allocator.Tac, 1.0, FlipProbabilities.Symmetric(0.05));
        Assert.True(plan.BitsPerWeight <= 1.0);
        WeightImage image = model.CreateImage(plan, FlipProbabilities.Symmetric(0.05));
        Assert.Equal(CnnUniform100.CreateWeightImage().LayoutId, image.LayoutId);
        // A protected layer reads its codes as stored; an unprotected one is scaled by 1/(1 - p10 - p01) and shifted by p01.
        for (int l = 0; l < plan.ProtectedPlanes.Count; l++)
            Assert.Equal(plan.ProtectedPlanes[l] > 0 ? LayerDequantization.Identity : new LayerDequantization((float)(1 / 0.9), 0.05f), image.GetDequantization(l));
        // A plan for another model's layer count is refused.
        ProtectionPlan other = MlpNode.Quantized.Design(Allocator.Tac, 1.0, FlipProbabilities.Symmetric(0.05));
        Assert.Contains("this model has", Assert.Throws<ArgumentException>(() => model.CreateImage(other, FlipProbabilities.Symmetric(0.05))).Message);
    }
}
