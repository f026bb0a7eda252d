#!/usr/bin/env bash
# What Qtaml adds to a consumer's build (issue #17's goal: a no-change build within 0.2 s of the same project
# without Qtaml, a cold build within 1.5 s of it). Packs the packages into a folder feed, makes two console apps
# that differ only in Qtaml (the README's quick start, and the same app printing a constant), and times
#   cold:      rm -rf bin obj, restore, then `dotnet build --no-restore`   (median of 3)
#   no-change: `dotnet build --no-restore` again with nothing changed      (median of 5)
# with the build servers running, as in a developer's edit loop. Prints one table row per project.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
export DOTNET_CLI_HOME="$work/home" NUGET_PACKAGES="$work/packages" DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
trap 'rm -rf "$work"' EXIT
version="0.1.0-cost.$(date +%s)"
for project in Qtaml.Runtime Qtaml.Generators; do
  dotnet pack "$repo/$project" -c Release -o "$work/feed" -p:Version="$version" --nologo -v quiet
done
printf '<?xml version="1.0" encoding="utf-8"?>\n<configuration><packageSources><clear /><add key="feed" value="%s" /></packageSources></configuration>\n' "$work/feed" > "$work/nuget.config"

cd "$work"
dotnet new console -o Plain > /dev/null
dotnet new console -o WithQtaml > /dev/null
(cd WithQtaml && dotnet add package Qtaml.Runtime --prerelease > /dev/null && dotnet add package Qtaml.Generators --prerelease > /dev/null)
mkdir WithQtaml/Models && cp "$repo/sample-app/Models/digits-mlp.onnx" WithQtaml/Models/
awk '/<!-- quick-start-program/ {found = 1; next} found && /^```csharp/ {inside = 1; next} inside && /^```/ {exit} inside {print}' "$repo/README.md" > WithQtaml/Program.cs
printf 'Console.WriteLine("prediction: 1");\n' > Plain/Program.cs

seconds() { local start end ms; start=$(date +%s%N); "$@" > /dev/null; end=$(date +%s%N); ms=$(( (end - start) / 1000000 )); printf '%d.%03d\n' $((ms / 1000)) $((ms % 1000)); }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

echo "| project | cold build (s) | no-change build (s) |"
echo "|---|---:|---:|"
for app in Plain WithQtaml; do
  cd "$work/$app"
  dotnet build > /dev/null   # warm the build servers and the package cache
  cold=$(for i in 1 2 3; do rm -rf bin obj; dotnet restore > /dev/null; seconds dotnet build --no-restore; done | median)
  nochange=$(for i in 1 2 3 4 5; do seconds dotnet build --no-restore; done | median)
  echo "| $app | $cold | $nochange |"
done
