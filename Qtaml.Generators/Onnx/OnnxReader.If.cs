using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

/// <summary>
/// If. A condition known at build time reads only the branch it picks. A condition computed at run time (a
/// cascade: a second stage only when the first is unsure) reads both branches, each layer guarded so it runs only
/// when its branch is taken, then one Where per output picks the branch that ran. Branches read outer values by
/// name, as ONNX scopes them; a data-dependent If inside another one's branch is not supported.
/// </summary>
internal static partial class OnnxReader
{
    internal static int ReadIf(Reading r, NodeProto node, string name, NodeAttributes a)
    {
        GraphProto thenBranch = a.Graph("then_branch") ?? throw Malformed(r, name, "If", "has no then_branch");
        GraphProto elseBranch = a.Graph("else_branch") ?? throw Malformed(r, name, "If", "has no else_branch");
        if (thenBranch.Output.Count != node.Output.Count || elseBranch.Output.Count != node.Output.Count)
            throw Malformed(r, name, "If", "has branches with " + thenBranch.Output.Count + " and " + elseBranch.Output.Count + " outputs for its " + node.Output.Count);

        string condition = node.Input[0];
        if (r.Constant(condition) is { } known)
        {
            if (known.Count != 1) throw Malformed(r, name, "If", "has a condition of " + known.Count + " values; ONNX needs one");
            GraphProto taken = known.Values[0] != 0 ? thenBranch : elseBranch;
            ReadBranch(r, taken);
            for (int k = 0; k < node.Output.Count; k++) Forward(r, taken.Output[k].Name, node.Output[k], name);
            return -1;
        }

        int condValue = r.Data(node, name);
        if (Shape.Length(r.Network.ShapeOf(condValue)) != 1) throw r.Network.Mismatch(name, "the If condition has shape " + Shape.Format(r.Network.ShapeOf(condValue)) + "; ONNX needs a single boolean");
        if (r.Network.Guard is not null) throw r.Network.Mismatch(name, "an If whose condition is computed at run time, inside a branch of another such If, is not supported");
        r.Network.Guard = new Guard(condValue, true);
        ReadBranch(r, thenBranch);
        r.Network.Guard = new Guard(condValue, false);
        ReadBranch(r, elseBranch);
        r.Network.Guard = null;
        for (int k = 0; k < node.Output.Count; k++)
        {
            Operand whenTrue = BranchOutput(r, thenBranch.Output[k].Name, name), whenFalse = BranchOutput(r, elseBranch.Output[k].Name, name);
            if (!whenTrue.Shape.SequenceEqual(whenFalse.Shape))
                throw r.Network.Mismatch(name, "the If branches give output " + (k + 1) + " different shapes, " + Shape.Format(whenTrue.Shape) + " and " + Shape.Format(whenFalse.Shape));
            int picked = r.Network.Where(name + (node.Output.Count > 1 ? " (output " + (k + 1) + ")" : ""), r.Network.ValueOperand(condValue), whenTrue, whenFalse);
            if (node.Output[k].Length > 0) r.Values[node.Output[k]] = picked;
        }
        return -1;
    }

    /// <summary>A branch's own constants, then its nodes, in the scope of the graph around it.</summary>
    private static void ReadBranch(Reading r, GraphProto branch)
    {
        foreach (TensorProto constant in branch.Initializer)
        {
            if (!r.Defined.Add(constant.Name)) throw Malformed(r, branch.Name, "If", "defines '" + constant.Name + "' again");
            r.Initializers[constant.Name] = constant;
        }
        ReadNodes(r, branch.Node);
    }

    /// <summary>An If output is a branch's output under another name: the same value, or the same constant.</summary>
    private static void Forward(Reading r, string branchOutput, string output, string name)
    {
        if (output.Length == 0) return;
        if (r.Values.TryGetValue(branchOutput, out int value)) r.Values[output] = value;
        else if (r.Initializers.TryGetValue(branchOutput, out TensorProto? constant))
        {
            TensorProto renamed = constant.Clone();
            renamed.Name = output;
            r.Initializers[output] = renamed;
        }
        else throw r.Network.Mismatch(name, "the If branch output '" + branchOutput + "' is not computed in the branch or around it");
    }

    private static Operand BranchOutput(Reading r, string tensor, string name)
    {
        if (r.Values.TryGetValue(tensor, out int value)) return r.Network.ValueOperand(value);
        if (r.Initializers.ContainsKey(tensor))
        {
            (int[] dims, float[] values) = r.Context.Tensor(tensor, name);
            return Operand.OfConstant(values, dims.SkipWhile(d => d == 1).ToArray());
        }
        throw r.Network.Mismatch(name, "the If branch output '" + tensor + "' is not computed in the branch or around it");
    }
}
