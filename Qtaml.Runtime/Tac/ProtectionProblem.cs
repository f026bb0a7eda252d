using System;
using System.Collections.Generic;
using System.Globalization;
using Qtaml.Moments;

namespace Qtaml.Tac;

/// <summary>
/// TAC step 2 and 3: choose how many top bit-planes m_l of each layer to protect within a budget of
/// protected bits per weight, and compare with the baselines (DESIGN 3.5).
/// </summary>
/// <remarks>
/// The predicted output distortion of a plan m is D(m) = Σ_l G_l·n_l·s_l²·Σ_{k∉top m_l} w_k²·v̄_{l,k}
/// and its cost is Σ_l m_l·n_l protected bits; a budget B allows cost ≤ B·Σ_l n_l. Protecting planes
/// MSB-first is optimal within a layer because w_k² grows 4x per plane.
/// </remarks>
public sealed class ProtectionProblem
{
    private readonly LayerProfile[] _layers;
    private TacFrontier? _frontier;

    /// <summary>Creates a problem over layers that all store <paramref name="bits"/>-bit codes.</summary>
    public ProtectionProblem(int bits, IReadOnlyList<LayerProfile> layers)
    {
        StoredCode.ValidateBits(bits);
        if (layers is null) throw new ArgumentNullException(nameof(layers));
        if (layers.Count == 0) throw new ArgumentException("A network has at least one layer to protect.", nameof(layers));
        _layers = new LayerProfile[layers.Count];
        for (int l = 0; l < _layers.Length; l++)
        {
            LayerProfile layer = layers[l] ?? throw new ArgumentException($"Layer {l} is null.", nameof(layers));
            if (layer.Bits != bits)
                throw new ArgumentException($"Layer {l} ('{layer.Name}') is profiled for {layer.Bits}-bit codes, but the problem stores {bits}-bit codes.", nameof(layers));
            _layers[l] = layer;
            TotalWeights += layer.WeightCount;
        }
        Bits = bits;
    }

    /// <summary>The bit width b of every stored code.</summary>
    public int Bits { get; }

    /// <summary>The layers, in network order.</summary>
    public IReadOnlyList<LayerProfile> Layers => _layers;

    /// <summary>Σ n_l.</summary>
    public long TotalWeights { get; }

    /// <summary>D_q = Σ_l G_l·n_l·s_l²/12: the distortion quantization alone leaves, below which ECC buys nothing visible.</summary>
    public double NoiseFloor
    {
        get
        {
            double floor = 0;
            foreach (LayerProfile layer in _layers) floor += layer.QuantizationNoise;
            return floor;
        }
    }

    /// <summary>D(m) for a plan given as the number of protected top planes per layer.</summary>
    public double PredictedDistortion(IReadOnlyList<int> protectedPlanes)
    {
        ValidatePlan(protectedPlanes);
        double total = 0;
        for (int l = 0; l < _layers.Length; l++) total += _layers[l].Distortion(protectedPlanes[l]);
        return total;
    }

    /// <summary>Σ m_l·n_l for a plan.</summary>
    public long ProtectedBits(IReadOnlyList<int> protectedPlanes)
    {
        ValidatePlan(protectedPlanes);
        long cost = 0;
        for (int l = 0; l < _layers.Length; l++) cost += protectedPlanes[l] * _layers[l].WeightCount;
        return cost;
    }

    /// <summary>Wraps a hand-made plan with its cost and predicted distortion.</summary>
    public ProtectionPlan CreatePlan(Allocator allocator, IReadOnlyList<int> protectedPlanes)
    {
        ValidatePlan(protectedPlanes);
        var planes = new int[_layers.Length];
        for (int l = 0; l < planes.Length; l++) planes[l] = protectedPlanes[l];
        return new ProtectionPlan(allocator, Bits, planes, ProtectedBits(planes), TotalWeights, PredictedDistortion(planes));
    }

    /// <summary>The plan an allocator makes within <paramref name="budgetBitsPerWeight"/> protected bits per weight.</summary>
    public ProtectionPlan Allocate(Allocator allocator, double budgetBitsPerWeight)
    {
        long maxProtectedBits = BudgetToProtectedBits(budgetBitsPerWeight);
        return allocator switch
        {
            Allocator.None => CreatePlan(Allocator.None, new int[_layers.Length]),
            Allocator.UniformMsp => CreatePlan(Allocator.UniformMsp, BaselineAllocators.UniformMsp(this, maxProtectedBits)),
            Allocator.MagnitudeBased => CreatePlan(Allocator.MagnitudeBased, BaselineAllocators.MagnitudeBased(this, maxProtectedBits)),
            Allocator.Tac => Frontier.Cheapest(maxProtectedBits),
            _ => throw new ArgumentOutOfRangeException(nameof(allocator), allocator, "Unknown allocator."),
        };
    }

    /// <summary>
    /// The smallest budget, in protected bits per weight, with which an allocator's plan predicts a
    /// distortion of at most <paramref name="targetDistortion"/>; +∞ if it never does (only
    /// <see cref="Allocator.None"/> can fail, since full protection predicts zero).
    /// </summary>
    public double MinimumBudget(Allocator allocator, double targetDistortion)
    {
        if (double.IsNaN(targetDistortion)) throw new ArgumentOutOfRangeException(nameof(targetDistortion), targetDistortion, "The target distortion must be a number.");
        return allocator switch
        {
            Allocator.None => PredictedDistortion(new int[_layers.Length]) <= targetDistortion ? 0 : double.PositiveInfinity,
            Allocator.UniformMsp => BaselineAllocators.UniformMspMinimum(this, targetDistortion),
            Allocator.MagnitudeBased => BaselineAllocators.MagnitudeBasedMinimum(this, targetDistortion),
            Allocator.Tac => Frontier.MinimumBudget(targetDistortion),
            _ => throw new ArgumentOutOfRangeException(nameof(allocator), allocator, "Unknown allocator."),
        };
    }

    /// <summary>The noise floor, the budget each allocator needs to reach it, and ρ*.</summary>
    public SaturationReport Saturation()
    {
        double floor = NoiseFloor;
        return new SaturationReport(floor, MinimumBudget(Allocator.Tac, floor), MinimumBudget(Allocator.UniformMsp, floor), MinimumBudget(Allocator.MagnitudeBased, floor));
    }

    /// <summary>
    /// Every Pareto-optimal TAC plan, from the cheapest (no protection) to the first with zero distortion; for a
    /// network too large for the exact search (<see cref="IsTacExact"/> false), the vertices of its convex hull.
    /// </summary>
    public IReadOnlyList<ProtectionPlan> TacPlans => Frontier.Plans;

    /// <summary>
    /// Whether TAC's plans are the exact optimum. They are unless the network is so large (many hundreds of
    /// layers) that the exact search would take longer than a build should; then they come from the convex
    /// hull of the frontier: optimal at its vertices, within one hull step of the optimum between them.
    /// </summary>
    public bool IsTacExact => Frontier.IsExact;

    private TacFrontier Frontier => _frontier ??= TacFrontier.Build(this);

    /// <summary>Converts a budget in bits per weight into a cap on protected bits, checking it.</summary>
    internal long BudgetToProtectedBits(double budgetBitsPerWeight)
    {
        if (double.IsNaN(budgetBitsPerWeight) || budgetBitsPerWeight < 0 || budgetBitsPerWeight > Bits)
            throw new ArgumentOutOfRangeException(nameof(budgetBitsPerWeight), budgetBitsPerWeight,
                string.Format(CultureInfo.InvariantCulture, "An ECC budget is between 0 and {0} protected bits per weight (all {0} planes of every weight).", Bits));
        // The tolerance absorbs representation error (0.3 · 1000 = 299.99999999999994), never a whole bit.
        return (long)Math.Floor(budgetBitsPerWeight * TotalWeights + 1e-6);
    }

    private void ValidatePlan(IReadOnlyList<int> protectedPlanes)
    {
        if (protectedPlanes is null) throw new ArgumentNullException(nameof(protectedPlanes));
        if (protectedPlanes.Count != _layers.Length)
            throw new ArgumentException($"The plan names {protectedPlanes.Count} layers but the network has {_layers.Length}.", nameof(protectedPlanes));
        for (int l = 0; l < _layers.Length; l++)
            if (protectedPlanes[l] < 0 || protectedPlanes[l] > Bits)
                throw new ArgumentOutOfRangeException(nameof(protectedPlanes), protectedPlanes[l], $"Layer {l} protects {protectedPlanes[l]} planes; between 0 and {Bits} are possible.");
    }
}
