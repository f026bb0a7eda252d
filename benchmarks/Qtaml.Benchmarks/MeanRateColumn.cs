using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Qtaml.Benchmarks;

/// <summary>
/// A summary column of work done a second: a benchmark's work per call (<paramref name="workPerCall"/>) over its
/// mean time, divided by <paramref name="unit"/> (10⁶ for mega, 10⁹ for giga) and printed with
/// <paramref name="format"/>.
/// </summary>
internal sealed class MeanRateColumn(string name, string legend, Func<BenchmarkCase, double> workPerCall, double unit, string format) : IColumn
{
    public string Id => nameof(MeanRateColumn) + "." + name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (summary[benchmarkCase]?.ResultStatistics is not { } statistics) return "-";
        double seconds = statistics.Mean * 1e-9;
        return (workPerCall(benchmarkCase) / seconds / unit).ToString(format, System.Globalization.CultureInfo.InvariantCulture);
    }
}
