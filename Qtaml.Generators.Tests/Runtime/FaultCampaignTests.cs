using Qtaml.Faults;

namespace Qtaml.Generators.Tests.Runtime;

public class FaultCampaignTests
{
    [Fact]
    public void A_campaign_gives_identical_trials_on_one_core_and_on_all_cores()
    {
        WeightImage clean = WeightImage.FromCodes(8, new[] { "w" }, new[] { Enumerable.Range(0, 4096).Select(i => i % 256 - 128).ToArray() });
        var model = TunnelingFaultModel.Symmetric(0.1);
        CampaignResult Run(int workers) => FaultCampaign.Run(64, seed: 123, clean.Clone, (image, trial) =>
        {
            image.CopyFrom(clean);
            return model.Inject(image, new[] { 0 }, trial.Seed);
        }, workers);

        CampaignResult serial = Run(1), parallel = Run(-1), again = Run(2);
        Assert.Equal(serial.Values, parallel.Values);
        Assert.Equal(serial.Values, again.Values);
        // The trials differ from one another: 64 flip counts near 3277 (σ ≈ 54) repeat a value only about ten times.
        Assert.True(serial.Values.Distinct().Count() > 40);
    }

    [Fact]
    public void The_confidence_interval_uses_students_t_and_covers_the_true_mean_at_its_nominal_rate()
    {
        // 400 campaigns of 10 trials of a uniform(0, 1) draw: a 95% interval covers 0.5 in about 380 of them.
        // Binomial(400, 0.95) has σ ≈ 4.4, so 4σ bands are [362, 398].
        int covered = 0;
        for (int c = 0; c < 400; c++)
        {
            CampaignResult result = FaultCampaign.Run(10, (ulong)c, trial => (trial.Seed >> 11) * (1.0 / (1UL << 53)));
            if (result.Lower95 <= 0.5 && 0.5 <= result.Upper95) covered++;
        }
        Assert.InRange(covered, 362, 398);

        var known = new CampaignResult(new[] { 1.0, 2.0, 3.0, 4.0 });
        Assert.Equal(2.5, known.Mean);
        Assert.Equal(Math.Sqrt(5.0 / 3.0), known.StandardDeviation, 12);
        Assert.Equal(3.1824 * Math.Sqrt(5.0 / 3.0) / 2, known.HalfWidth95, 4);
    }

    [Fact]
    public void Bad_campaign_arguments_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FaultCampaign.Run(0, 1, _ => 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FaultCampaign.Run(3, 1, _ => 0, maxDegreeOfParallelism: 0));
        Assert.Throws<ArgumentNullException>(() => FaultCampaign.Run(3, 1, null!));
    }
}
