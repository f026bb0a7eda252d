using Qtaml.Data;
using Qtaml.Faults;
using Qtaml.Generators.Tests.Support;
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
    /// <summary>The CNN compiled at p = 0.10 for three plans of one encoding (sign-magnitude: a plan keeps the class's encoding), and one in two's complement.</summary>
    private static readonly (string, string)[] CnnBuilds =
    {
        ("Tac025", ", FlipProbability = 0.10, EccBudget = 0.25, Encoding = WeightEncoding.SignMagnitude"),
        ("Magnitude075", ", FlipProbability = 0.10, EccBudget = 0.75, Allocator = Qtaml.Tac.Allocator.MagnitudeBased, Encoding = WeightEncoding.SignMagnitude"),
        ("None000", ", FlipProbability = 0.10, EccBudget = 0, Allocator = Qtaml.Tac.Allocator.None, Encoding = WeightEncoding.SignMagnitude"),
        ("Uniform100", ", FlipProbability = 0.10, EccBudget = 1.0, Allocator = Qtaml.Tac.Allocator.UniformMsp, Encoding = WeightEncoding.TwosComplement"),
    };

    private static CompiledVariant Cnn(string build) => InProcessModels.Variant(InProcessModels.Class("digits-cnn.onnx", CnnBuilds, build));

    private static Action<float[], float[]> CnnRun(string build) => InProcessModels.Run(InProcessModels.Class("digits-cnn.onnx", CnnBuilds, build));

    private static FlipProbabilities Compensated(ModelInfo info) => new(info.P10, info.P01);

    private static WeightImage BuildsOwnPlan(CompiledVariant model) =>
        model.Quantized.CreateImage(model.Info.Allocator, model.Info.EccBudget, Compensated(model.Info));

    private static void AssertSameImage(WeightImage expected, WeightImage actual)
    {
        Assert.True(actual.HasSameLayout(expected));
        Assert.True(actual.Bytes.SequenceEqual(expected.Bytes), "the stored codes differ");
        for (int l = 0; l < expected.Layers.Count; l++) Assert.Equal(expected.GetDequantization(l), actual.GetDequantization(l));
    }

    [Fact]
    public void The_runtime_lays_out_each_builds_own_plan_bit_for_bit()
    {
        // TAC, magnitude and no protection at p = 0.10 symmetric, Uniform-MSP in two's complement (unprotected layers
        // read with a scale factor and a code offset), and the sample's calibrated 2 nm node builds (window average).
        foreach ((string build, _) in CnnBuilds)
        {
            Type type = InProcessModels.Class("digits-cnn.onnx", CnnBuilds, build);
            var own = (WeightImage)type.GetMethod("CreateWeightImage")!.Invoke(null, null)!;
            AssertSameImage(own, BuildsOwnPlan(InProcessModels.Variant(type)));
        }
        AssertSameImage(Digits.CreateWeightImage(), BuildsOwnPlan(CompiledVariant.Of<Digits.Compiled>()));
        AssertSameImage(MlpNode.CreateWeightImage(), BuildsOwnPlan(CompiledVariant.Of<MlpNode>()));
        AssertSameImage(TransformerNode.CreateWeightImage(), BuildsOwnPlan(CompiledVariant.Of<TransformerNode>()));
    }

    [Theory]
    [InlineData(Moments.CodeEncoding.TwosComplement)]
    [InlineData(Moments.CodeEncoding.SignMagnitude)]
    public void The_plan_core_plans_a_layer_the_same_whatever_order_its_codes_are_kept_in(Moments.CodeEncoding encoding)
    {
        // The build keeps codes in the weights' order and an image in its kernel's: the plan, the profiles and every
        // stored code must not depend on that, bit for bit.
        var random = new Random(31);
        int[][] layers = Enumerable.Range(0, 3).Select(l => Enumerable.Range(0, 500 + 300 * l)
            .Select(_ => (int)Math.Clamp(Math.Round(30 * (random.NextDouble() + random.NextDouble() - 1) * 2), -127, 127)).ToArray()).ToArray();
        int[][] shuffled = layers.Select(codes => codes.OrderBy(_ => random.Next()).ToArray()).ToArray();
        PlanCore Core(int[][] codes) => new(new[] { "a", "b", "c" }, codes.Select(c => CodeHistogram.Of(c, 8)).ToArray(), new[] { 0.01, 0.02, 0.005 }, new[] { 1.0, 0.3, 2.0 }, 8, encoding);
        PlanCore original = Core(layers), reordered = Core(shuffled);
        var flips = new FlipProbabilities(0.0509, 0.001);
        ProtectionPlan plan = original.Design(Allocator.Tac, 1.0, flips), again = reordered.Design(Allocator.Tac, 1.0, flips);
        Assert.Equal(plan.ProtectedPlanes, again.ProtectedPlanes);
        Assert.Equal(plan.PredictedDistortion, again.PredictedDistortion);   // exactly, not within a tolerance
        for (int l = 0; l < layers.Length; l++)
        {
            CorrectedCodes a = original.Correct(l, plan.ProtectedPlanes[l], flips, original.RefreshedShiftBound);
            CorrectedCodes b = reordered.Correct(l, plan.ProtectedPlanes[l], flips, reordered.RefreshedShiftBound);
            Assert.Equal(a.ScaleFactor, b.ScaleFactor);
            Assert.Equal(a.FreshShiftSquared, b.FreshShiftSquared);
            Assert.Equal(a.For(layers[l]).StoredCodes, b.For(layers[l]).StoredCodes);
            // And a layer's stored codes follow its codes: the same map whichever order they are given in.
            Assert.Equal(shuffled[l].Select(a.StoredFor), b.For(shuffled[l]).StoredCodes);
        }
    }

    [Fact]
    public void One_class_runs_another_plans_image_exactly_as_the_class_compiled_for_it()
    {
        (_, MnistData test) = MnistData.Load(MnistData.DefaultPath());
        CompiledVariant tac = Cnn("Tac025");
        // Compiled for TAC at 0.25 bits/weight; here it runs magnitude-based at 0.75 and no protection at all.
        foreach ((WeightImage image, Action<float[], float[]> compiled) in new (WeightImage, Action<float[], float[]>)[]
        {
            (tac.Quantized.CreateImage(Allocator.MagnitudeBased, 0.75, FlipProbabilities.Symmetric(0.10)), CnnRun("Magnitude075")),
            (tac.Quantized.CreateImage(Allocator.None, 0, FlipProbabilities.Symmetric(0.10)), CnnRun("None000")),
        })
        {
            for (int i = 0; i < 50; i++)
            {
                float[] fromImage = new float[10], expected = new float[10];
                tac.Run(image, test.Images[i], fromImage);
                compiled(test.Images[i], expected);
                Assert.Equal(expected, fromImage);
            }
        }
    }

    [Fact]
    public void A_plan_image_keeps_the_classs_encoding_and_layout_and_what_the_plan_protects()
    {
        // A two's-complement class: mean correction of an unprotected layer is affine there.
        CompiledVariant uniform = Cnn("Uniform100");
        QuantizedModel model = uniform.Quantized;
        Assert.Equal(Moments.CodeEncoding.TwosComplement, model.Encoding);
        Assert.Equal(uniform.Info.Layers.Select(l => l.Sensitivity), model.Sensitivities);
        ProtectionPlan plan = model.Design(Allocator.Tac, 1.0, FlipProbabilities.Symmetric(0.05));
        Assert.True(plan.BitsPerWeight <= 1.0);
        WeightImage image = model.CreateImage(plan, FlipProbabilities.Symmetric(0.05));
        // A protected layer reads its codes as stored; an unprotected one is scaled by 1/(1 - λ(p10 + p01)) and shifted
        // by λ·p01, toward the full correction (λ = 1) as far as doing no harm just after a refresh allows.
        for (int l = 0; l < plan.ProtectedPlanes.Count; l++)
        {
            if (plan.ProtectedPlanes[l] > 0) { Assert.Equal(LayerDequantization.Identity, image.GetDequantization(l)); continue; }
            CorrectedLayer limited = MeanCorrection.ApplyDoingNoHarm(model.IntendedCodes(l), 8, 0, FlipProbabilities.Symmetric(0.05), Moments.CodeEncoding.TwosComplement, model.FreshShiftBound);
            Assert.Equal(new LayerDequantization((float)limited.ScaleFactor, (float)limited.CodeOffset), image.GetDequantization(l));
            Assert.InRange(limited.ScaleFactor, 1.0, 1 / 0.9);
            Assert.InRange(limited.CodeOffset, 0.0, 0.05);
        }
        // Another model's image is refused by the class, and a plan for another model's layer count by the quantized model.
        Assert.Contains("does not have this model's layout", Assert.Throws<ArgumentException>(() => uniform.Run(MlpNode.CreateWeightImage(), new float[784], new float[10])).Message);
        ProtectionPlan other = MlpNode.Quantized.Design(Allocator.Tac, 1.0, FlipProbabilities.Symmetric(0.05));
        Assert.Contains("this model has", Assert.Throws<ArgumentException>(() => model.CreateImage(other, FlipProbabilities.Symmetric(0.05))).Message);
    }
}
