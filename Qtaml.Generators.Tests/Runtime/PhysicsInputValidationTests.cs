using Qtaml.Physics;

namespace Qtaml.Generators.Tests.Runtime;

/// <summary>The physics types refuse what would otherwise come back as a silent NaN.</summary>
public class PhysicsInputValidationTests
{
    [Fact]
    public void A_gate_stack_rejects_a_default_oxide_layer()
    {
        var thrown = Assert.Throws<ArgumentException>(() => new GateStack(OxideLayer.SiO2(0.5), new OxideLayer()));
        Assert.Contains("Layer 1", thrown.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new GateStack(default(OxideLayer)));
        Assert.True(default(OxideLayer).IsDefault);
        Assert.False(OxideLayer.HfO2(1.5).IsDefault);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Fields_reject_a_voltage_that_is_not_finite(double volts)
    {
        GateStack stack = GateStack.SiO2HfO2(0.48, 1.5);
        Assert.Throws<ArgumentException>(() => stack.FieldsVoltsPerMetre(volts));
        Assert.ThrowsAny<ArgumentException>(() => Wkb.Transmission(stack, volts));
    }

    [Fact]
    public void Fields_of_a_finite_voltage_are_finite_and_share_one_displacement()
    {
        GateStack stack = GateStack.SiO2HfO2(0.48, 1.5);
        double[] fields = stack.FieldsVoltsPerMetre(0.65);
        Assert.All(fields, f => Assert.True(double.IsFinite(f) && f > 0));
        // Layers in series carry the same D = eps * F.
        Assert.Equal(3.9 * fields[0], 22 * fields[1], 6);
    }
}
