using System;
using System.Collections.Generic;
using System.Linq;
using Qtaml.Generators.Network;
using Qtaml.Generators.Onnx.Schema;

namespace Qtaml.Generators.Onnx;

internal static partial class OnnxReader
{
    /// <summary>The state of one read: the builder, and which ONNX tensor is which value.</summary>
    internal sealed class Reading
    {
        private readonly Dictionary<string, TensorProto> _initializers;

        /// <summary>The constants known so far: the file's initializers, Constant nodes and folded nodes, by name.</summary>
        public Dictionary<string, TensorProto> Initializers => _initializers;

        /// <summary>Every name defined so far (ONNX assigns each once).</summary>
        public HashSet<string> Defined { get; } = new(StringComparer.Ordinal);

        /// <summary>The graph inputs of an integer type: indices, readable only by a Gather.</summary>
        public HashSet<string> IntegerInputs { get; } = new(StringComparer.Ordinal);

        /// <summary>Whether <paramref name="name"/> is an integer graph input (not shadowed by a node output).</summary>
        public bool IsIntegerInput(string name) => IntegerInputs.Contains(name);

        private readonly Dictionary<string, ConstantTensor> _decoded = new(StringComparer.Ordinal);

        public Reading(Context context, NetworkBuilder network, Dictionary<string, int> uses, int opset, Dictionary<string, TensorProto> initializers)
        {
            Context = context;
            Network = network;
            Uses = uses;
            Opset = opset;
            _initializers = initializers;
        }

        /// <summary>A tensor known at build time (an initializer, a Constant node, a folded node), or null for a computed value.</summary>
        public ConstantTensor? Constant(string name)
        {
            if (Values.ContainsKey(name) || !_initializers.TryGetValue(name, out TensorProto? tensor)) return null;
            if (!_decoded.TryGetValue(name, out ConstantTensor? decoded))
            {
                if (tensor.DataLocation != TensorProto.Types.DataLocation.Default || tensor.ExternalData.Count > 0) return null;   // the read reports it
                _decoded[name] = decoded = ConstantTensor.Decode(Context.Path, tensor);
            }
            return decoded;
        }

        /// <summary>A computed value's shape, or null for a constant.</summary>
        public long[]? OnnxShape(string name) => Values.TryGetValue(name, out int value) ? Network.ShapeOf(value).Select(d => (long)d).ToArray() : null;

        /// <summary>The file's opset of the default domain: what each operator means.</summary>
        public int Opset { get; }

        public Context Context { get; }
        public NetworkBuilder Network { get; }
        public Dictionary<string, int> Uses { get; }
        public Dictionary<string, int> Values { get; } = new(StringComparer.Ordinal);

        /// <summary>Points the builder at the node's data input <paramref name="index"/> and returns that value.</summary>
        public int Data(NodeProto node, string name, int index = 0)
        {
            if (node.Input.Count <= index) throw Network.Mismatch(name, node.OpType + " is missing its input " + (index + 1));
            string tensor = node.Input[index];
            if (!Values.TryGetValue(tensor, out int value))
                throw Network.Mismatch(name, Context.IsInitializer(tensor)
                    ? "its input '" + tensor + "' is a constant where Qtaml needs a computed value"
                    : "its input '" + tensor + "' is not computed by any earlier node");
            Network.Current = value;
            return value;
        }

        public bool IsValue(string tensor) => Values.ContainsKey(tensor);

        /// <summary>An input as a value or a float constant of its own shape.</summary>
        public Operand Operand(NodeProto node, string name, int index)
        {
            string tensor = node.Input[index];
            if (Values.TryGetValue(tensor, out int value)) return Network.ValueOperand(value);
            // A boolean or integer constant (a mask, a threshold) is used as float values, as booleans are 0 and 1 at run time.
            (int[] dims, float[] values) = _initializers.TryGetValue(tensor, out TensorProto? stored) && stored.DataType != FloatType && Constant(tensor) is { } other
                ? (other.Dims, other.Values.Select(v => (float)v).ToArray())
                : Context.Tensor(tensor, name);
            return Generators.Network.Operand.OfConstant(values, dims);
        }

        /// <summary>An axis of a value: negative axes count from the end.</summary>
        public int Axis(int value, long axis, string name, string what)
        {
            int rank = Network.ShapeOf(value).Length;
            long positive = axis < 0 ? axis + rank : axis;
            if (positive < 0 || positive >= rank) throw Network.Mismatch(name, what + " axis " + axis + " is outside the tensor's " + rank + " axes");
            return (int)positive;
        }
    }
}
