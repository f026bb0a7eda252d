using Qtaml.Tac;

namespace Qtaml.Plans;

/// <summary>How reports name the allocators: as the paper does.</summary>
public static class AllocatorNames
{
    /// <summary>"TAC", "Uniform-MSP", "magnitude-based", "none".</summary>
    public static string Of(Allocator allocator) => allocator switch
    {
        Allocator.Tac => "TAC",
        Allocator.UniformMsp => "Uniform-MSP",
        Allocator.MagnitudeBased => "magnitude-based",
        Allocator.None => "none",
        _ => allocator.ToString(),
    };
}
