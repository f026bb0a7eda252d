extern alias gen;
using Qtaml.Generators.Tests.Generator;
using Buffer = gen::Qtaml.Generators.Lowering.Buffer;
using KernelProgram = gen::Qtaml.Generators.Lowering.KernelProgram;
using OnnxReader = gen::Qtaml.Generators.Onnx.OnnxReader;
using Placement = gen::Qtaml.Generators.Lowering.Placement;
using ProgramCompiler = gen::Qtaml.Generators.Lowering.ProgramCompiler;
using ProgramVerifier = gen::Qtaml.Generators.Lowering.ProgramVerifier;
using Step = gen::Qtaml.Generators.Lowering.Step;

namespace Qtaml.Generators.Tests.Lowering;

/// <summary>
/// The verifier every build runs on its kernel program: a program the passes produce passes it, and each way a
/// program can be wrong (a read before its write, a value written twice, a slice out of the arena, two live values
/// sharing floats) is caught with the step and values named.
/// </summary>
public class ProgramVerifierTests
{
    /// <summary>A CNN then an MLP: several arena values, some reusing the same slice once their first owner is dead.</summary>
    private static KernelProgram Compiled() =>
        ProgramCompiler.Compile(OnnxReader.Read("cnn.onnx", TestModels.Cnn().Build(new long[] { 1, 10 })));

    [Fact]
    public void A_program_the_passes_produce_passes()
    {
        KernelProgram program = Compiled();
        ProgramVerifier.Verify(program);
        Assert.True(program.Steps.Count >= 4);
    }

    [Fact]
    public void A_step_moved_before_the_step_that_writes_its_input_is_a_read_before_write()
    {
        KernelProgram program = Compiled();
        var steps = program.Steps.ToList();
        (steps[0], steps[1]) = (steps[1], steps[0]);
        var error = Assert.Throws<InvalidOperationException>(() => ProgramVerifier.Verify(program with { Steps = new(steps) }));
        Assert.Contains("before any step writes it", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_written_by_two_steps_is_caught()
    {
        KernelProgram program = Compiled();
        var steps = program.Steps.ToList();
        steps.Insert(2, steps[1]);
        var error = Assert.Throws<InvalidOperationException>(() => ProgramVerifier.Verify(program with { Steps = new(steps) }));
        Assert.Contains("and again by step", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_arena_smaller_than_its_slices_is_caught()
    {
        KernelProgram program = Compiled();
        var error = Assert.Throws<InvalidOperationException>(() => ProgramVerifier.Verify(program with { ArenaFloats = program.ArenaFloats - 1 }));
        Assert.Contains("outside the arena", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_live_values_placed_on_the_same_floats_are_caught()
    {
        KernelProgram program = Compiled();
        // The first step that reads an arena value and writes another: put its output where its input is.
        Step step = program.Steps.First(s => program.Placements[program.Root(s.Inputs[0])].Buffer == Buffer.Arena && program.Placements[s.Output].Buffer == Buffer.Arena);
        var placements = program.Placements.ToArray();
        placements[step.Output] = placements[program.Root(step.Inputs[0])];
        var error = Assert.Throws<InvalidOperationException>(() => ProgramVerifier.Verify(program with { Placements = new(placements) }));
        Assert.Contains("both live and overlap", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_output_left_in_the_arena_is_caught()
    {
        KernelProgram program = Compiled();
        var placements = program.Placements.ToArray();
        placements[program.Root(program.OutputValue)] = new Placement(Buffer.Arena, 0);
        var error = Assert.Throws<InvalidOperationException>(() => ProgramVerifier.Verify(program with { Placements = new(placements) }));
        Assert.Contains("not in its output span", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_split_step_writing_the_callers_output_is_caught()
    {
        KernelProgram program = Compiled();
        var steps = program.Steps.ToArray();
        int last = Array.FindLastIndex(steps, s => program.Placements[program.Root(s.Output)].Buffer == Buffer.Output);
        steps[last] = steps[last] with { Splits = true };
        var error = Assert.Throws<InvalidOperationException>(() => ProgramVerifier.Verify(program with { Steps = new(steps) }));
        Assert.Contains("splits across threads", error.Message, StringComparison.Ordinal);
    }
}
