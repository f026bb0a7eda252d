using BenchmarkDotNet.Running;

// Run all benchmarks:   dotnet run -c Release --project benchmarks/Qtaml.Benchmarks -- --filter '*'
// Results are published in docs/benchmarks.md.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
