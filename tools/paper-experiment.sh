#!/usr/bin/env bash
# The paper's experiment, with qtaml campaign: five architectures trained on the digits (a LeNet-5, a VGG-style stack
# with large dense layers, a ResNet-style net with BatchNormalization and residual adds, a MobileNet-style
# depthwise-separable net, and the transformer encoder), each allocator's minimum budget for 95% of clean accuracy
# (bisection to 1/64 bit/weight), the measured Uniform-MSP/TAC ratio, rho* as the build predicts it, and TAC against
# magnitude-based at 0.1, 0.25 and 0.5 bits/weight. CNNs at the paper's p = 0.10, the encoder at p = 0.05.
#   bash tools/paper-experiment.sh [output folder, default results/paper] [trials, default 20] [inputs, default 1000]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$repo/results/paper}"
trials="${2:-20}"
inputs="${3:-1000}"
mkdir -p "$out"
cd "$repo"

# The test digits the calibration inputs are not (the last 256 of the split are), with their labels.
dotnet run -c Release --project tools/Qtaml.Train -- --campaign-data --out "$out" > /dev/null
dotnet build -c Release Qtaml.Tool -v quiet --nologo > /dev/null
qtaml=(dotnet "$repo/Qtaml.Tool/bin/Release/net10.0/Qtaml.Tool.dll")

for entry in cnn:0.10 vgg:0.10 resnet:0.10 separable:0.10 transformer:0.05; do
  model="${entry%%:*}" p="${entry##*:}"
  echo "== $model, p_flip = $p"
  "${qtaml[@]}" campaign "sample-app/Models/digits-$model.onnx" --p-flip "$p" \
    --inputs "$out/digits-test.npy" --labels "$out/digits-test-labels.npy" --max-inputs "$inputs" \
    --calibration sample-app/Models/calibration.npy --trials "$trials" --seed 2026 --out "$out/$model" | tee "$out/$model.txt"
done
dotnet run tools/paper-table.cs -- "$out" | tee "$out/table.md"
