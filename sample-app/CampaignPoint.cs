using Qtaml.Faults;

namespace Qtaml.Sample;

/// <summary>One compiled variant of a model (an allocator at a budget), with its inference over a weight image.</summary>
public sealed class CampaignPoint
{
    private CampaignPoint(ModelInfo info, Func<WeightImage> createImage, RunOverImage run, int inputLength, int outputLength)
    {
        Info = info;
        CreateImage = createImage;
        Run = run;
        InputLength = inputLength;
        OutputLength = outputLength;
    }

    public delegate void RunOverImage(WeightImage weights, ReadOnlySpan<float> input, Span<float> output);

    public ModelInfo Info { get; }
    public Func<WeightImage> CreateImage { get; }
    public RunOverImage Run { get; }
    public int InputLength { get; }
    public int OutputLength { get; }
    public string Allocator => Info.Allocator;
    public double Budget => Info.EccBudget;

    /// <summary>The point for a compiled model class: generic over the static abstract interface, no reflection.</summary>
    public static CampaignPoint Of<TModel>() where TModel : ICompiledModel =>
        new(TModel.Info, TModel.CreateWeightImage, TModel.Run, TModel.InputLength, TModel.OutputLength);

    /// <summary>The fraction of <paramref name="count"/> test digits the weights in <paramref name="image"/> classify correctly.</summary>
    public double Accuracy(WeightImage image, Data.MnistData test, int count)
    {
        Span<float> scores = stackalloc float[OutputLength];
        int correct = 0;
        for (int i = 0; i < count; i++)
        {
            Run(image, test.Images[i], scores);
            int best = 0;
            for (int k = 1; k < scores.Length; k++) if (scores[k] > scores[best]) best = k;
            if (best == test.Labels[i]) correct++;
        }
        return (double)correct / count;
    }
}
