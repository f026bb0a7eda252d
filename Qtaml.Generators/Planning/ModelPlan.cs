using Qtaml.Generators.Network;
using Qtaml.Moments;
using Qtaml.Physics;
using Qtaml.Tac;

namespace Qtaml.Generators.Planning;

/// <summary>One weight layer after quantization and TAC: what is stored and how it is read back.</summary>
internal sealed class QuantizedLayer
{
    public QuantizedLayer(WeightLayer layer, int[] intendedCodes, int[] storedCodes, float[] channelScales, double layerScale, float scaleFactor, float codeOffset, int protectedPlanes, double sensitivity, double residualBound)
    {
        LayerScale = layerScale;
        Layer = layer;
        IntendedCodes = intendedCodes;
        StoredCodes = storedCodes;
        ChannelScales = channelScales;
        ScaleFactor = scaleFactor;
        CodeOffset = codeOffset;
        ProtectedPlanes = protectedPlanes;
        Sensitivity = sensitivity;
        ResidualBound = residualBound;
    }

    public WeightLayer Layer { get; }

    /// <summary>The codes quantization chose, before mean correction, row-major like the weights (what a runtime plan starts from).</summary>
    public int[] IntendedCodes { get; }

    /// <summary>The codes written to memory (after mean correction), row-major like the weights.</summary>
    public int[] StoredCodes { get; }

    /// <summary>Per output channel: the quantization scale s_c (baked; the image carries the factor on it).</summary>
    public float[] ChannelScales { get; }

    /// <summary>The mean-correction factor on the scale (1/(1 − p10 − p01) without protection, else 1): the build's image carries it, kernels read it at run time.</summary>
    public float ScaleFactor { get; }

    /// <summary>s_l, the layer scale of D(m) (<see cref="PlanDesigner.LayerScales"/>).</summary>
    public double LayerScale { get; }

    /// <summary>Added to every read code before scaling (p01 without protection, else 0).</summary>
    public float CodeOffset { get; }

    public int ProtectedPlanes { get; }
    public double Sensitivity { get; }
    public double ResidualBound { get; }
}

/// <summary>Everything the emitter needs: the network, the fault model, the plan and the baked image.</summary>
internal sealed class ModelPlan
{
    public ModelPlan(NetworkGraph graph, string nodeLabel, FlipProbabilities flips, int bits, double budget,
        QuantizedLayer[] layers, ProtectionPlan? protection, SaturationReport? saturation, byte[] image, int[] layerOffsets, double inputMeanSquare = 1,
        CompensationPoint operatingPoint = CompensationPoint.Static, FlipProbabilities? windowEnd = null, CodeEncoding encoding = CodeEncoding.TwosComplement, BudgetForecast? forecast = null)
    {
        Forecast = forecast;
        Encoding = encoding;
        OperatingPoint = operatingPoint;
        WindowEnd = windowEnd ?? flips;
        InputMeanSquare = inputMeanSquare;
        Graph = graph;
        NodeLabel = nodeLabel;
        Flips = flips;
        Bits = bits;
        Budget = budget;
        Layers = layers;
        Protection = protection;
        Saturation = saturation;
        Image = image;
        LayerOffsets = layerOffsets;
    }

    public NetworkGraph Graph { get; }
    public string NodeLabel { get; }

    /// <summary>The flips the stored codes are compensated for (<see cref="OperatingPoint"/>).</summary>
    public FlipProbabilities Flips { get; }

    /// <summary>The flips the codes are compensated for: a node's window average or end, or static (an explicit flip probability: no window).</summary>
    public CompensationPoint OperatingPoint { get; }

    /// <summary>Whether the codes are read through a retention window, from just after a refresh to its end (a node), as ModelInfo.HasWindow says at run time.</summary>
    public bool HasWindow => OperatingPoint.HasWindow();

    /// <summary>How the stored codes are laid out in their bits.</summary>
    public CodeEncoding Encoding { get; }

    /// <summary>The flips at the end of the retention window, the most a read meets.</summary>
    public FlipProbabilities WindowEnd { get; }

    /// <summary>The stored width, or 0 for an unquantized reference build.</summary>
    public int Bits { get; }

    public bool IsQuantized => Bits > 0;
    public double Budget { get; }
    public QuantizedLayer[] Layers { get; }
    public ProtectionPlan? Protection { get; }
    public SaturationReport? Saturation { get; }

    /// <summary>The weight image exactly as <c>Qtaml.Faults.WeightImage</c> lays it out.</summary>
    public byte[] Image { get; }

    /// <summary>The intended codes in the same layout: what the generated class exposes for runtime plans.</summary>
    public byte[] IntendedImage { get; init; } = System.Array.Empty<byte>();

    /// <summary>Names the order the kernels read codes in (<c>WeightImage.LayoutId</c>): a saved image of another layout is refused.</summary>
    public string LayoutId { get; init; } = string.Empty;

    public int[] LayerOffsets { get; }

    /// <summary>The inputs' mean square E[x²] the sensitivities were computed for (the attribute's InputMeanSquare, default 1).</summary>
    public double InputMeanSquare { get; }

    /// <summary>True when the data-free sensitivities were estimated from the weights alone, not measured through the Jacobian.</summary>
    public bool SensitivitiesFromWeightsOnly { get; set; }

    public int BytesPerCode => Bits <= 8 ? 1 : 2;

    /// <summary>With calibration inputs: the predicted agreement of this plan and the budgets each allocator needs for the target; else null.</summary>
    public BudgetForecast? Forecast { get; }
}
