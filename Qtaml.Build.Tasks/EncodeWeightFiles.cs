using System;
using System.IO;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Qtaml.Build;

/// <summary>
/// Writes each weight file as text to the path in its <c>QtamlEncodedFile</c> metadata: a header line with its
/// <c>QtamlProjectPath</c> (the path an attribute names it by), then its bytes in base64. The targets compute
/// both paths and run this only for weight files newer than their encoded form.
/// </summary>
public sealed class EncodeWeightFiles : Task
{
    /// <summary>The first characters of every encoded file; the generator checks them.</summary>
    public const string Header = "qtaml-weights-base64 v1 ";

    /// <summary>The weight files to encode, with QtamlProjectPath and QtamlEncodedFile metadata.</summary>
    [Required]
    public ITaskItem[] WeightFiles { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        foreach (ITaskItem item in WeightFiles)
        {
            string source = item.GetMetadata("FullPath");
            string target = item.GetMetadata("QtamlEncodedFile");
            try
            {
                string text = Header + item.GetMetadata("QtamlProjectPath").Replace('\\', '/') + "\n" + Convert.ToBase64String(File.ReadAllBytes(source)) + "\n";
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
                File.WriteAllText(target, text);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.LogError(null, "QTAML000", null, source, 0, 0, 0, 0, "Qtaml cannot encode the weight file '{0}' into '{1}': {2}", source, target, e.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }
}
