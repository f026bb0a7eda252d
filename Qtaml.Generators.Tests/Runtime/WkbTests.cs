using Qtaml.Physics;

namespace Qtaml.Generators.Tests.Runtime;

public class WkbTests
{
    private const double Q = 1.602176634e-19, Hbar = 1.054571817e-34, M0 = 9.1093837015e-31;

    // A single SiO2 barrier: 1.2 nm, 3.1 eV, 0.42 m0.
    private static readonly GateStack Sio2 = new(OxideLayer.SiO2(1.2));
    private const double Phi = 3.1, Mass = 0.42 * M0, Thickness = 1.2e-9;

    private static double RelativeError(double actual, double expected) => Math.Abs(actual - expected) / Math.Abs(expected);

    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-12)]
    public void Rectangular_limit_at_zero_voltage_is_exp_of_minus_2t_sqrt_2m_phi_over_hbar(double volts)
    {
        double expected = Math.Exp(-2 * Thickness * Math.Sqrt(2 * Mass * Q * Phi) / Hbar);
        Assert.True(RelativeError(Wkb.Transmission(Sio2, volts), expected) < 1e-9);
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(1.5)]
    [InlineData(3.0)]
    public void Direct_tunneling_below_the_barrier_matches_the_textbook_formula(double volts)
    {
        double field = volts / Thickness;
        double expected = Math.Exp(-4 * Math.Sqrt(2 * Mass) / (3 * Hbar * Q * field)
                                   * (Math.Pow(Q * Phi, 1.5) - Math.Pow(Q * Phi - Q * volts, 1.5)));
        Assert.True(RelativeError(Wkb.Transmission(Sio2, volts), expected) < 1e-9);
    }

    [Theory]
    [InlineData(3.2)]
    [InlineData(4.5)]
    [InlineData(8.0)]
    public void Fowler_Nordheim_above_the_barrier_matches_the_textbook_formula(double volts)
    {
        double field = volts / Thickness;
        double expected = Math.Exp(-4 * Math.Sqrt(2 * Mass) * Math.Pow(Q * Phi, 1.5) / (3 * Hbar * Q * field));
        Assert.True(RelativeError(Wkb.Transmission(Sio2, volts), expected) < 1e-9);
    }

    [Fact]
    public void Transmission_is_continuous_where_direct_tunneling_becomes_Fowler_Nordheim()
    {
        double below = Wkb.Transmission(Sio2, Phi * (1 - 1e-10));
        double at = Wkb.Transmission(Sio2, Phi);
        double above = Wkb.Transmission(Sio2, Phi * (1 + 1e-10));
        Assert.True(RelativeError(below, at) < 1e-8);
        Assert.True(RelativeError(above, at) < 1e-8);
    }

    [Fact]
    public void Transmission_falls_with_thickness_and_rises_with_voltage()
    {
        double previous = 1;
        for (double t = 0.3; t <= 3.0; t += 0.1)
        {
            double transmission = Wkb.Transmission(GateStack.SiO2HfO2(t, 1.5), 0.65);
            Assert.True(transmission < previous, $"T did not fall at SiO2 {t} nm");
            previous = transmission;
        }
        previous = 0;
        for (double v = 0; v <= 6.0; v += 0.05)
        {
            double transmission = Wkb.Transmission(GateStack.SiO2HfO2(0.48, 1.5), v);
            Assert.True(transmission > previous, $"T did not rise at {v} V");
            previous = transmission;
        }
    }

    public static TheoryData<string, double> Stacks => new()
    {
        { "2nm", 0.65 },
        { "7nm", 0.70 },
        { "tri-layer", 2.0 },   // barrier of the last layer is crossed inside it: a Fowler–Nordheim segment
        { "tri-layer", 4.0 },   // the HfO2 layer is passed over entirely
    };

    /// <summary>
    /// Independent check: integrate κ(x) = √(2m(U(x) − E)) through the stack numerically, with the
    /// potential built from the series-capacitor fields, and compare exponents.
    /// </summary>
    [Theory]
    [MemberData(nameof(Stacks))]
    public void Multi_layer_exponent_matches_numerical_integration_of_the_barrier(string stackName, double volts)
    {
        GateStack stack = stackName switch
        {
            "2nm" => GateStack.SiO2HfO2(0.48, 1.50),
            "7nm" => GateStack.SiO2HfO2(0.70, 1.80),
            _ => new GateStack(OxideLayer.SiO2(0.5), new OxideLayer("Al2O3", 1.0, 9.0, 2.8, 0.35), OxideLayer.HfO2(1.2)),
        };
        double sumTOverEps = stack.Layers.Sum(l => l.ThicknessNm * 1e-9 / l.RelativePermittivity);
        double integral = 0, potentialDrop = 0;
        foreach (OxideLayer layer in stack.Layers)
        {
            double t = layer.ThicknessNm * 1e-9, field = volts / (layer.RelativePermittivity * sumTOverEps), m = layer.EffectiveMass * M0;
            double top = Q * layer.BarrierEv - potentialDrop;
            // Composite midpoint rule: robust at the square-root edge where the barrier closes.
            const int steps = 400_000;
            double h = t / steps;
            for (int i = 0; i < steps; i++)
            {
                double height = top - Q * field * (i + 0.5) * h;
                if (height > 0) integral += Math.Sqrt(2 * m * height) * h;
            }
            potentialDrop += Q * field * t;
        }
        double expected = 2 * integral / Hbar;
        Assert.True(RelativeError(Wkb.Exponent(stack, volts), expected) < 1e-6,
            $"{stackName} at {volts} V: closed form {Wkb.Exponent(stack, volts)}, quadrature {expected}");
    }

    [Fact]
    public void Equivalent_oxide_thickness_weighs_each_layer_by_3_9_over_its_permittivity()
    {
        Assert.Equal(0.48 + 1.50 * 3.9 / 22, GateStack.SiO2HfO2(0.48, 1.50).EquivalentOxideThicknessNm, 12);
    }

    [Fact]
    public void Negative_or_non_finite_voltage_is_rejected_with_a_message()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Wkb.Transmission(Sio2, -0.1));
        Assert.Contains("zero or more", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Wkb.Transmission(Sio2, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => OxideLayer.SiO2(0));
    }
}
