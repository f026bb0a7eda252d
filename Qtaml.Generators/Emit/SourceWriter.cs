using System;
using System.Text;

namespace Qtaml.Generators.Emit;

/// <summary>An indenting text writer for generated C#.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public SourceWriter(int indent = 0) => _indent = indent;

    /// <summary>The current indentation level, for a scratch writer whose text is appended here later.</summary>
    public int Indent => _indent;

    /// <summary>Appends text written by another writer at this writer's indentation.</summary>
    public SourceWriter Raw(string text)
    {
        _text.Append(text);
        return this;
    }

    public SourceWriter Line(string line = "")
    {
        if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
        return this;
    }

    public SourceWriter Open(string line)
    {
        Line(line);
        Line("{");
        _indent++;
        return this;
    }

    public SourceWriter Close(string suffix = "")
    {
        _indent--;
        return Line("}" + suffix);
    }

    /// <summary>
    /// Opens a kernel method. Marked for full optimization at its first call: a tiered JIT would first run its loops
    /// unoptimized (tier 0) and re-compile it only after some thirty calls, so an app's first inferences (a wake word,
    /// a first OCR line) would be the slowest. See docs/benchmarks.md, "First calls".
    /// </summary>
    public IDisposable Kernel(string signature)
    {
        Line("[MethodImpl(MethodImplOptions.AggressiveOptimization)]");
        return Block(signature);
    }

    public IDisposable Block(string line)
    {
        Open(line);
        return new Closer(this);
    }

    private readonly System.Collections.Generic.List<Action<SourceWriter>> _deferred = new();

    /// <summary>Holds a member to write once the current one is closed (see <see cref="WriteDeferred"/>).</summary>
    public void Defer(Action<SourceWriter> member) => _deferred.Add(member);

    /// <summary>Writes the members deferred while the last one was written, at this writer's indentation.</summary>
    public void WriteDeferred()
    {
        while (_deferred.Count > 0)
        {
            Action<SourceWriter>[] pending = _deferred.ToArray();
            _deferred.Clear();
            foreach (Action<SourceWriter> member in pending) member(this);
        }
    }

    public override string ToString() => _text.ToString();

    private sealed class Closer : IDisposable
    {
        private readonly SourceWriter _writer;
        public Closer(SourceWriter writer) => _writer = writer;
        public void Dispose() => _writer.Close();
    }
}
