#!/usr/bin/env bash
# A stranger's first hour, from the packages alone. Packs Qtaml.Runtime, Qtaml.Generators and Qtaml.Templates into
# a folder feed that stands in for the registry (the only package source), then:
#   1. follows the README's "Use it in your app" steps in a fresh folder: dotnet new console, dotnet add package
#      (twice), copy the model, the README's Program.cs block (read from README.md itself), dotnet run;
#      then the README's calibration: the app records its inputs with CalibrationRecorder, the attribute names the file,
#      and the next 2nm build forecasts the decisions kept (no Python anywhere);
#   2. installs the template package and builds and runs `dotnet new qtaml-console`;
#   3. shows a project with only Qtaml.Runtime gets QTAML023 ("add Qtaml.Generators"), not CS0117;
#   4. installs the qtaml tool (Qtaml.Tool) with `dotnet tool install` and runs inspect and a small campaign on a sample model.
# CI packs a prerelease version, so `dotnet add package` gets --prerelease; otherwise the commands are the README's.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
export DOTNET_CLI_HOME="$work/home" NUGET_PACKAGES="$work/packages" DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
trap 'rm -rf "$work"' EXIT
version="0.1.0-ci.$(date +%s)"

for project in Qtaml.Runtime Qtaml.Generators templates Qtaml.Tool; do
  dotnet pack "$repo/$project" -c Release -o "$work/feed" -p:Version="$version" --nologo -v quiet
done

# Outside the repository: none of its Directory.*.props apply. Only the folder feed is a source.
mkdir -p "$work/apps"
cat > "$work/apps/nuget.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="qtaml-local" value="$work/feed" />
  </packageSources>
</configuration>
CONFIG

# 1. The README's quick start.
cd "$work/apps"
dotnet new console -o Digits > /dev/null
cd Digits
dotnet add package Qtaml.Runtime --prerelease > /dev/null
dotnet add package Qtaml.Generators --prerelease > /dev/null
mkdir Models && cp "$repo/sample-app/Models/digits-mlp.onnx" Models/
awk '/<!-- quick-start-program/ {found = 1; next} found && /^```csharp/ {inside = 1; next} inside && /^```/ {exit} inside {print}' "$repo/README.md" > Program.cs
test -s Program.cs || { echo "README.md has no quick-start Program.cs block" >&2; exit 1; }
dotnet run > "$work/quick-start.txt" 2>&1 || { cat "$work/quick-start.txt"; exit 1; }
grep -q "prediction: " "$work/quick-start.txt" && grep -q "Models/digits-mlp.onnx" "$work/quick-start.txt" || { cat "$work/quick-start.txt"; exit 1; }
echo "quick start: the README's steps restored, built and ran ($(grep 'prediction: ' "$work/quick-start.txt"))"

# 1b. The README's calibration: the app records its inputs and saves them (no Python), then the attribute names the
#     file and the next build forecasts the decisions kept at 2nm.
awk '/<!-- calibration-program/ {found = 1; next} found && /^```csharp/ {inside = 1; next} inside && /^```/ {exit} inside {print}' "$repo/README.md" > Program.cs
grep -q "CalibrationRecorder" Program.cs || { echo "README.md has no calibration Program.cs block" >&2; exit 1; }
dotnet run > "$work/record.txt" 2>&1 || { cat "$work/record.txt"; exit 1; }
grep -q "saved 256 of 400 inputs" "$work/record.txt" && test -s Models/inputs.npy || { cat "$work/record.txt"; exit 1; }
grep -q "no calibration inputs, so no forecast" "$work/record.txt" || { cat "$work/record.txt"; exit 1; }
sed -i 's|EccBudget = 2.0)]|EccBudget = 2.0, Calibration = "Models/inputs.npy")]|' Program.cs
grep -q 'Calibration = "Models/inputs.npy"' Program.cs || { echo "the README's attribute changed shape; update this step" >&2; exit 1; }
dotnet run > "$work/calibrated.txt" 2>&1 || { cat "$work/calibrated.txt"; exit 1; }
forecast=$(grep -o "calibrated on 256 inputs: predicted to keep [0-9.]* % of decisions" "$work/calibrated.txt") || { cat "$work/calibrated.txt"; exit 1; }
echo "calibration: the app recorded its inputs, the next 2nm build used them ($forecast)"

# 2. The template.
cd "$work/apps"
dotnet new install "$work/feed/Qtaml.Templates.$version.nupkg" > /dev/null
dotnet new qtaml-console -o FromTemplate > /dev/null
(cd FromTemplate && dotnet run > "$work/template.txt" 2>&1) || { cat "$work/template.txt"; exit 1; }
grep -q "campaign: " "$work/template.txt" || { cat "$work/template.txt"; exit 1; }
echo "template: dotnet new qtaml-console built and ran ($(grep 'campaign: ' "$work/template.txt"))"

# 3. The runtime without the generator: one clear error.
dotnet new console -o RuntimeOnly > /dev/null
cd RuntimeOnly
dotnet add package Qtaml.Runtime --prerelease > /dev/null
printf 'Console.WriteLine(Digits.Predict(new float[784]));\n[Qtaml.TunnelingCompensated("Models/digits-mlp.onnx")]\npublic static partial class Digits { }\n' > Program.cs
if dotnet build > "$work/runtime-only.txt" 2>&1; then echo "a project without Qtaml.Generators built" >&2; exit 1; fi
grep -q "QTAML023" "$work/runtime-only.txt" || { cat "$work/runtime-only.txt"; exit 1; }
echo "runtime only: QTAML023 tells the user to add Qtaml.Generators"

# 4. The tool, as the README installs it (into a tool path here, so nothing global changes).
cd "$work/apps"
dotnet tool install Qtaml.Tool --prerelease --tool-path "$work/tools" > "$work/tool-install.txt" 2>&1 || { cat "$work/tool-install.txt"; exit 1; }
qtaml="$work/tools/qtaml"
"$qtaml" --help > "$work/help.txt"
grep -q "campaign" "$work/help.txt" && grep -q "calibration" "$work/help.txt" || { echo "qtaml --help does not list campaign and calibration" >&2; cat "$work/help.txt"; exit 1; }
grep -A1 "^Usage:" "$work/help.txt" | grep -q "^  qtaml \[command\]" || { echo "qtaml --help does not name the command qtaml" >&2; cat "$work/help.txt"; exit 1; }
"$qtaml" inspect "$repo/sample-app/Models/digits-mlp.onnx" --p-flip 0.1 > "$work/inspect.txt" 2>&1 || { cat "$work/inspect.txt"; exit 1; }
grep -q "rho\*" "$work/inspect.txt" || { cat "$work/inspect.txt"; exit 1; }
"$qtaml" campaign "$repo/sample-app/Models/digits-mlp.onnx" --p-flip 0.1 --inputs "$repo/sample-app/Models/calibration.npy" --max-inputs 40 --trials 3 --out "$work/campaign" > "$work/campaign.txt" 2>&1 || { cat "$work/campaign.txt"; exit 1; }
grep -q "Uniform-MSP / TAC, measured" "$work/campaign.txt" && test -s "$work/campaign/campaign.csv" && test -s "$work/campaign/campaign.svg" || { cat "$work/campaign.txt"; exit 1; }
if "$qtaml" campaign "$repo/sample-app/Models/digits-mlp.onnx" --inputs x.npy > "$work/usage.txt" 2>&1; then echo "qtaml accepted a campaign without faults" >&2; exit 1; fi
echo "tool: dotnet tool install Qtaml.Tool, then qtaml inspect and qtaml campaign ran ($(grep -o 'Uniform-MSP / TAC, measured: [^;]*' "$work/campaign.txt"))"
echo "package consumer: restored from the folder feed, built and ran"
