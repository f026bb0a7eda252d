#!/usr/bin/env bash
# Packs Qtaml.Runtime and Qtaml.Generators, restores them into a fresh consumer project from a local folder
# feed (and nothing else), builds it and runs it. Proves that a stranger's project gets the generator, its
# bundled Google.Protobuf, the build props/targets (weight files to AdditionalFiles, MSBuild properties) and
# the runtime from the packages alone.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
version="0.0.0-ci.$(date +%s)"

dotnet pack "$repo/Qtaml.Runtime" -c Release -o "$work/feed" -p:Version="$version" --nologo -v quiet
dotnet pack "$repo/Qtaml.Generators" -c Release -o "$work/feed" -p:Version="$version" --nologo -v quiet

mkdir -p "$work/consumer/Models"
cp "$repo/packaging/consumer/Consumer.csproj" "$repo/packaging/consumer/Program.cs" "$work/consumer/"
cp "$repo/sample-app/Models/digits-mlp.onnx" "$work/consumer/Models/"
# Outside the repository: none of its Directory.*.props apply. Only the folder feed is a source.
cat > "$work/consumer/nuget.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="qtaml-local" value="$work/feed" />
  </packageSources>
</configuration>
CONFIG
cd "$work/consumer"
dotnet run -p:QtamlVersion="$version" --packages "$work/packages" > "$work/output.txt" 2>&1 || { cat "$work/output.txt"; exit 1; }
cat "$work/output.txt"
grep -q "prediction: " "$work/output.txt" && grep -q "compiled: Models/digits-mlp.onnx at 2nm" "$work/output.txt"
echo "package consumer: restored from the folder feed, built and ran"
