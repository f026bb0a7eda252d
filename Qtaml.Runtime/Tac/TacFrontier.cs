using System;
using System.Collections.Generic;

namespace Qtaml.Tac;

/// <summary>
/// The exact solution of TAC's multiple-choice knapsack: every plan that no other plan beats on both
/// cost and predicted distortion (the Pareto frontier), built layer by layer.
/// </summary>
/// <remarks>
/// After layer l the frontier holds, for each reachable cost, the least distortion of the first l layers,
/// and only costs where that distortion strictly improves on every cheaper one. Extending each of those
/// states by every choice m_{l+1} ∈ 0..b and pruning again keeps the optimum: a dominated partial plan
/// can never become part of an optimal whole, because costs and distortions add across layers. The
/// optimum for a budget is the last frontier plan within it; the cheapest plan reaching a target
/// distortion is the first one at or below it. Costs are whole protected bits, so no rounding enters.
/// The frontier's size is bounded by the number of distinct costs; for networks of a few dozen layers
/// it stays in the thousands.
/// </remarks>
internal sealed class TacFrontier
{
    private readonly ProtectionProblem _problem;
    private readonly long[] _cost;
    private readonly double[] _distortion;
    private readonly int[][] _planes;
    private ProtectionPlan[]? _plans;

    private TacFrontier(ProtectionProblem problem, long[] cost, double[] distortion, int[][] planes)
    {
        _problem = problem;
        _cost = cost;
        _distortion = distortion;
        _planes = planes;
    }

    public static TacFrontier Build(ProtectionProblem problem)
    {
        int bits = problem.Bits;
        // A partial plan: its cost, its distortion so far, and the choice made for the newest layer with a
        // link to the state it extended (so the full plan is rebuilt only for the survivors).
        var states = new List<State> { new State(0, 0, null, 0) };
        foreach (LayerProfile layer in problem.Layers)
        {
            var layerDistortion = new double[bits + 1];
            for (int m = 0; m <= bits; m++) layerDistortion[m] = layer.Distortion(m);

            var extended = new List<State>(states.Count * (bits + 1));
            foreach (State state in states)
                for (int m = 0; m <= bits; m++)
                    extended.Add(new State(state.Cost + m * layer.WeightCount, state.Distortion + layerDistortion[m], state, m));
            states = Prune(extended);
        }

        int layers = problem.Layers.Count;
        var cost = new long[states.Count];
        var distortion = new double[states.Count];
        var planes = new int[states.Count][];
        for (int i = 0; i < states.Count; i++)
        {
            cost[i] = states[i].Cost;
            distortion[i] = states[i].Distortion;
            var plan = new int[layers];
            State? cursor = states[i];
            for (int l = layers - 1; l >= 0; l--)
            {
                plan[l] = cursor!.Choice;
                cursor = cursor.Previous;
            }
            planes[i] = plan;
        }
        return new TacFrontier(problem, cost, distortion, planes);
    }

    /// <summary>Keeps, in order of cost, the states whose distortion beats every cheaper state.</summary>
    private static List<State> Prune(List<State> states)
    {
        states.Sort(static (x, y) =>
        {
            int byCost = x.Cost.CompareTo(y.Cost);
            if (byCost != 0) return byCost;
            int byDistortion = x.Distortion.CompareTo(y.Distortion);
            return byDistortion != 0 ? byDistortion : CompareChoices(x, y);
        });
        var kept = new List<State>();
        double best = double.PositiveInfinity;
        foreach (State state in states)
        {
            if (state.Distortion < best)
            {
                kept.Add(state);
                best = state.Distortion;
            }
        }
        return kept;
    }

    /// <summary>A total order on equal-cost, equal-distortion plans, so the result never depends on the sort.</summary>
    private static int CompareChoices(State? x, State? y)
    {
        while (x is not null && y is not null)
        {
            int byChoice = x.Choice.CompareTo(y.Choice);
            if (byChoice != 0) return byChoice;
            x = x.Previous;
            y = y.Previous;
        }
        return 0;
    }

    public IReadOnlyList<ProtectionPlan> Plans
    {
        get
        {
            if (_plans is null)
            {
                var plans = new ProtectionPlan[_cost.Length];
                for (int i = 0; i < plans.Length; i++) plans[i] = Plan(i);
                _plans = plans;
            }
            return _plans;
        }
    }

    /// <summary>The least-distortion plan that protects at most <paramref name="maxProtectedBits"/> bits.</summary>
    public ProtectionPlan Cheapest(long maxProtectedBits)
    {
        // Costs ascend and distortions descend along the frontier: the last affordable plan is the best.
        int index = 0;
        for (int i = 0; i < _cost.Length && _cost[i] <= maxProtectedBits; i++) index = i;
        return Plan(index);
    }

    /// <summary>The budget of the cheapest plan predicting at most <paramref name="target"/>.</summary>
    public double MinimumBudget(double target)
    {
        for (int i = 0; i < _cost.Length; i++)
            if (_distortion[i] <= target) return (double)_cost[i] / _problem.TotalWeights;
        return double.PositiveInfinity;
    }

    private ProtectionPlan Plan(int index) =>
        new(Allocator.Tac, _problem.Bits, (int[])_planes[index].Clone(), _cost[index], _problem.TotalWeights, _distortion[index]);

    private sealed class State
    {
        public State(long cost, double distortion, State? previous, int choice)
        {
            Cost = cost;
            Distortion = distortion;
            Previous = previous;
            Choice = choice;
        }

        public long Cost { get; }
        public double Distortion { get; }
        public State? Previous { get; }
        public int Choice { get; }
    }
}
