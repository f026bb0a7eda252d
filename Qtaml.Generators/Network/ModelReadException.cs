using System;
using Microsoft.CodeAnalysis;

namespace Qtaml.Generators.Network;

/// <summary>Why a weight file cannot be compiled: becomes a diagnostic on the attribute's path argument.</summary>
internal sealed class ModelReadException : Exception
{
    public ModelReadException(DiagnosticDescriptor descriptor, params object[] arguments)
        : base(descriptor.Id)
    {
        Descriptor = descriptor;
        Arguments = arguments;
    }

    public DiagnosticDescriptor Descriptor { get; }
    public object[] Arguments { get; }
}
