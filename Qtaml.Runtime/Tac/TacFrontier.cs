using System;
using System.Collections;
using System.Collections.Generic;

namespace Qtaml.Tac;

/// <summary>
/// TAC's multiple-choice knapsack: which top planes of which layer to protect so the predicted distortion is
/// least within a budget. Solved exactly (the Pareto frontier) when that is affordable, else on its convex hull.
/// </summary>
/// <remarks>
/// <para>
/// Exact: after layer l the frontier holds, for each reachable cost, the least distortion of the first l
/// layers, and only costs where that distortion strictly improves on every cheaper one. Extending each of
/// those states by every choice m_{l+1} ∈ 0..b and pruning again keeps the optimum: a dominated partial plan
/// can never become part of an optimal whole, because costs and distortions add across layers. The optimum
/// for a budget is the last frontier plan within it; the cheapest plan reaching a target distortion is the
/// first one at or below it. Costs are whole protected bits, so no rounding enters.
/// </para>
/// <para>
/// The frontier holds up to one state per distinct cost, so its work grows with layers × distinct costs:
/// quadratically in the number of layers (a chain of 1,000 equal layers takes 8,000 states through 1,000
/// steps). Past <see cref="ExactWorkLimit"/> state extensions the exact search stops and the convex hull is
/// used: each layer's points (m·n_l, D_l(m)) reduced to their lower convex hull, every hull segment of every
/// layer taken in order of distortion removed per protected bit (the Lagrangian relaxation of the knapsack,
/// whose solutions are exactly the frontier's hull vertices), then what budget is left filled greedily with
/// the next segments that still fit. That is optimal at every hull vertex and within one segment's
/// distortion of the optimum between them, in O(L·b·log(L·b)). Networks of up to a few hundred layers stay exact.
/// </para>
/// </remarks>
internal abstract class TacFrontier
{
    /// <summary>The most state extensions the exact search makes before it falls back to the convex hull.</summary>
    public const long ExactWorkLimit = 4_000_000;

    protected TacFrontier(ProtectionProblem problem) => Problem = problem;

    protected ProtectionProblem Problem { get; }

    /// <summary>Whether plans are the exact optimum (true) or from the convex hull (false).</summary>
    public abstract bool IsExact { get; }

    /// <summary>The frontier's plans in order of ascending cost (descending distortion).</summary>
    public abstract IReadOnlyList<ProtectionPlan> Plans { get; }

    /// <summary>The least-distortion plan within a budget of protected bits.</summary>
    public abstract ProtectionPlan Cheapest(long maxProtectedBits);

    /// <summary>The budget, in bits per weight, of the cheapest plan whose distortion is at most <paramref name="target"/>.</summary>
    public abstract double MinimumBudget(double target);

    public static TacFrontier Build(ProtectionProblem problem) => ExactFrontier.TryBuild(problem) ?? BuildHull(problem);

    /// <summary>The convex-hull frontier, whatever the problem's size (the fallback; tests compare it with the exact one).</summary>
    internal static TacFrontier BuildHull(ProtectionProblem problem) => HullFrontier.FromHulls(problem);

    /// <summary>The distortion of every choice m = 0..b of one layer.</summary>
    protected static double[] Distortions(LayerProfile layer, int bits)
    {
        var distortion = new double[bits + 1];
        for (int m = 0; m <= bits; m++) distortion[m] = layer.Distortion(m);
        return distortion;
    }

    private sealed class ExactFrontier : TacFrontier
    {
        private readonly long[] _cost;
        private readonly double[] _distortion;
        private readonly int[][] _planes;
        private ProtectionPlan[]? _plans;

        private ExactFrontier(ProtectionProblem problem, long[] cost, double[] distortion, int[][] planes) : base(problem)
        {
            _cost = cost;
            _distortion = distortion;
            _planes = planes;
        }

        public override bool IsExact => true;

        public static ExactFrontier? TryBuild(ProtectionProblem problem)
        {
            int bits = problem.Bits;
            long work = 0;
            // A partial plan: its cost, its distortion so far, and the choice made for the newest layer with a
            // link to the state it extended (so the full plan is rebuilt only for the survivors).
            var states = new List<State> { new State(0, 0, null, 0, 0) };
            foreach (LayerProfile layer in problem.Layers)
            {
                work += (long)states.Count * (bits + 1);
                if (work > ExactWorkLimit) return null;
                states = Extend(states, layer.WeightCount, Distortions(layer, bits));
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
            return new ExactFrontier(problem, cost, distortion, planes);
        }

        /// <summary>
        /// The frontier after one more layer: every state extended by every choice m, visited in order of cost, then
        /// distortion, then m, then the rank of the state extended, keeping each that strictly lowers the distortion
        /// of every cheaper one. Exact ties are thus ordered by the newest choice and the previous frontier's own
        /// (deterministic) order. The frontier's costs strictly ascend, so for each m its extensions already come in
        /// that order: a merge of b + 1 sorted runs, with no sort and no state made for what is pruned.
        /// </summary>
        private static List<State> Extend(List<State> states, long weightCount, double[] layerDistortion)
        {
            int choices = layerDistortion.Length;
            var next = new int[choices];   // per choice m, the next state of the frontier to extend by it
            var kept = new List<State>();
            double best = double.PositiveInfinity;
            while (true)
            {
                int pick = -1;
                long pickCost = 0;
                double pickDistortion = 0;
                for (int m = 0; m < choices; m++)
                {
                    if (next[m] >= states.Count) continue;
                    State from = states[next[m]];
                    long cost = from.Cost + m * weightCount;
                    double distortion = from.Distortion + layerDistortion[m];
                    if (pick < 0 || Precedes(cost, distortion, m, next[m], pickCost, pickDistortion, pick, next[pick]))
                        (pick, pickCost, pickDistortion) = (m, cost, distortion);
                }
                if (pick < 0) return kept;
                if (pickDistortion < best)
                {
                    kept.Add(new State(pickCost, pickDistortion, states[next[pick]], pick, next[pick]));
                    best = pickDistortion;
                }
                next[pick]++;
            }
        }

        private static bool Precedes(long cost, double distortion, int choice, int rank, long otherCost, double otherDistortion, int otherChoice, int otherRank)
        {
            int c = cost.CompareTo(otherCost);
            if (c != 0) return c < 0;
            c = distortion.CompareTo(otherDistortion);
            if (c != 0) return c < 0;
            c = choice.CompareTo(otherChoice);
            return c != 0 ? c < 0 : rank < otherRank;
        }

        public override IReadOnlyList<ProtectionPlan> Plans
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

        public override ProtectionPlan Cheapest(long maxProtectedBits)
        {
            // Costs ascend and distortions descend along the frontier: the last affordable plan is the best.
            int index = 0;
            for (int i = 0; i < _cost.Length && _cost[i] <= maxProtectedBits; i++) index = i;
            return Plan(index);
        }

        public override double MinimumBudget(double target)
        {
            for (int i = 0; i < _cost.Length; i++)
                if (_distortion[i] <= target) return (double)_cost[i] / Problem.TotalWeights;
            return double.PositiveInfinity;
        }

        private ProtectionPlan Plan(int index) =>
            new(Allocator.Tac, Problem.Bits, (int[])_planes[index].Clone(), _cost[index], Problem.TotalWeights, _distortion[index]);

        private sealed class State
        {
            public State(long cost, double distortion, State? previous, int choice, int previousRank)
            {
                Cost = cost;
                Distortion = distortion;
                Previous = previous;
                Choice = choice;
                PreviousRank = previousRank;
            }

            public long Cost { get; }
            public double Distortion { get; }
            public State? Previous { get; }
            public int Choice { get; }
            public int PreviousRank { get; }
        }
    }

    private sealed class HullFrontier : TacFrontier
    {
        /// <summary>One step along a layer's convex hull: protect planes up to <see cref="To"/> instead of <see cref="From"/>.</summary>
        private readonly record struct Segment(int Layer, int From, int To, long Cost, double Gain);

        private readonly Segment[] _segments;
        private readonly long[] _cost;          // cost of the first k segments
        private readonly double[] _distortion;  // distortion after the first k segments

        private HullFrontier(ProtectionProblem problem, Segment[] segments, long[] cost, double[] distortion) : base(problem)
        {
            _segments = segments;
            _cost = cost;
            _distortion = distortion;
        }

        public override bool IsExact => false;

        public static HullFrontier FromHulls(ProtectionProblem problem)
        {
            int bits = problem.Bits;
            var segments = new List<Segment>();
            double start = 0;
            for (int l = 0; l < problem.Layers.Count; l++)
            {
                LayerProfile layer = problem.Layers[l];
                double[] d = Distortions(layer, bits);
                start += d[0];
                // The lower convex hull of (m, D(m)), m = 0..b (cost is m·n, a common factor per layer).
                var hull = new List<int> { 0 };
                for (int m = 1; m <= bits; m++)
                {
                    while (hull.Count >= 2 && !IsConvexTurn(hull[hull.Count - 2], hull[hull.Count - 1], m, d)) hull.RemoveAt(hull.Count - 1);
                    hull.Add(m);
                }
                for (int i = 1; i < hull.Count; i++)
                {
                    int from = hull[i - 1], to = hull[i];
                    double removed = d[from] - d[to];
                    if (removed <= 0) break;   // the rest of the hull buys nothing
                    segments.Add(new Segment(l, from, to, (long)(to - from) * layer.WeightCount, removed));
                }
            }
            // Best distortion removed per protected bit first; within a layer the hull's segments already come in
            // that order, and ties keep it (layer, then planes) so the order is deterministic.
            segments.Sort(static (x, y) =>
            {
                int c = (y.Gain / y.Cost).CompareTo(x.Gain / x.Cost);
                if (c != 0) return c;
                c = x.Layer.CompareTo(y.Layer);
                return c != 0 ? c : x.From.CompareTo(y.From);
            });
            var cost = new long[segments.Count + 1];
            var distortion = new double[segments.Count + 1];
            distortion[0] = start;
            for (int k = 0; k < segments.Count; k++)
            {
                cost[k + 1] = cost[k] + segments[k].Cost;
                distortion[k + 1] = distortion[k] - segments[k].Gain;
            }
            return new HullFrontier(problem, segments.ToArray(), cost, distortion);
        }

        /// <summary>Whether b stays on the lower hull between a and c: the slope a→b is at most the slope b→c.</summary>
        private static bool IsConvexTurn(int a, int b, int c, double[] d) => (d[b] - d[a]) * (c - b) <= (d[c] - d[b]) * (b - a);

        public override IReadOnlyList<ProtectionPlan> Plans => new LazyPlans(this);

        public override ProtectionPlan Cheapest(long maxProtectedBits)
        {
            int taken = 0;
            while (taken < _segments.Length && _cost[taken + 1] <= maxProtectedBits) taken++;
            int[] planes = Replay(taken);
            // Spend what is left on the next segments that still fit, each layer's in its own order.
            long spent = _cost[taken];
            var blocked = new bool[planes.Length];
            for (int k = taken; k < _segments.Length; k++)
            {
                Segment s = _segments[k];
                if (blocked[s.Layer] || planes[s.Layer] != s.From) continue;
                if (spent + s.Cost <= maxProtectedBits)
                {
                    planes[s.Layer] = s.To;
                    spent += s.Cost;
                }
                else blocked[s.Layer] = true;
            }
            return Problem.CreatePlan(Allocator.Tac, planes);
        }

        public override double MinimumBudget(double target)
        {
            for (int k = 0; k < _distortion.Length; k++)
                if (_distortion[k] <= target) return (double)_cost[k] / Problem.TotalWeights;
            return double.PositiveInfinity;
        }

        /// <summary>The planes of each layer after the first <paramref name="count"/> segments.</summary>
        private int[] Replay(int count)
        {
            var planes = new int[Problem.Layers.Count];
            for (int k = 0; k < count; k++) planes[_segments[k].Layer] = _segments[k].To;
            return planes;
        }

        /// <summary>The hull vertices as plans, made when read: a large network's frontier would not fit in memory as arrays.</summary>
        private sealed class LazyPlans : IReadOnlyList<ProtectionPlan>
        {
            private readonly HullFrontier _frontier;

            public LazyPlans(HullFrontier frontier) => _frontier = frontier;

            public int Count => _frontier._cost.Length;

            // The plan's distortion summed afresh, not the running difference (which carries the rounding of every step).
            public ProtectionPlan this[int index] => _frontier.Problem.CreatePlan(Allocator.Tac, _frontier.Replay(index));

            public IEnumerator<ProtectionPlan> GetEnumerator()
            {
                for (int i = 0; i < Count; i++) yield return this[i];
            }

            IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
        }
    }
}
