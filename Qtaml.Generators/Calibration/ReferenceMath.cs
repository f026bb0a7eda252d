using System;

namespace Qtaml.Generators.Calibration;

/// <summary>The few functions the reference evaluator needs that .NET Standard 2.0's Math lacks, in double precision.</summary>
internal static class ReferenceMath
{
    /// <summary>
    /// The error function, to about 1e-15: its Maclaurin series below |x| = 2.5, the continued fraction of erfc
    /// above (each converges fast in its range), odd in x.
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double a = Math.Abs(x);
        double result;
        if (a < 2.5)
        {
            // erf(x) = 2/√π · Σ (−1)^n x^(2n+1) / (n! (2n+1))
            double term = a, sum = a, square = a * a;
            for (int n = 1; n < 80 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
            {
                term *= -square / n;
                sum += term / (2 * n + 1);
            }
            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else if (a > 27) result = 1;
        else
        {
            // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated from the tail
            double fraction = a;
            for (int n = 60; n >= 1; n--) fraction = a + n / 2.0 / fraction;
            result = 1 - Math.Exp(-a * a) / Math.Sqrt(Math.PI) / fraction;
        }
        return x < 0 ? -result : result;
    }

    /// <summary>
    /// The nearest IEEE half-precision value (ties to even), as a Cast to float16 stores it: 11 significant bits,
    /// subnormal below 2^−14, infinite beyond 65504 (rounding up from 65520).
    /// </summary>
    public static double RoundToHalf(double x)
    {
        if (double.IsNaN(x) || double.IsInfinity(x) || x == 0) return x;
        double a = Math.Abs(x);
        if (a >= 65520) return x > 0 ? double.PositiveInfinity : double.NegativeInfinity;
        int exponent = Math.Max((int)Math.Floor(Math.Log(a, 2)), -14);
        if (Math.Pow(2, exponent) > a) exponent--;   // guard against log rounding just above a power of two
        if (exponent < -14) exponent = -14;
        double quantum = Math.Pow(2, exponent - 10);
        double rounded = Math.Round(a / quantum, MidpointRounding.ToEven) * quantum;
        return x < 0 ? -rounded : rounded;
    }
}
