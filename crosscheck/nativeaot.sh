#!/usr/bin/env bash
# The generated kernels under NativeAOT with its default instruction set (x86-64-v2: no AVX2, no FMA), the way an
# edge app is usually published: publishes crosscheck/Qtaml.CrossCheck with PublishAot for linux-x64, runs it and
# compares every output with the JIT build's within 1e-5. Needs a C toolchain for the native link (the image has
# clang and gcc; Debian's clang otherwise).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
command -v clang > /dev/null || command -v gcc > /dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang zlib1g-dev > /dev/null; }

dotnet publish "$repo/crosscheck/Qtaml.CrossCheck" -c Release -p:CrossCheckRuntime=linux-x64 -o "$work/jit" --nologo -v quiet
dotnet publish "$repo/crosscheck/Qtaml.CrossCheck" -c Release -p:CrossCheckRuntime=linux-x64 -p:CrossCheckAot=true -o "$work/aot" --nologo -v quiet
"$work/jit/Qtaml.CrossCheck" > "$work/jit.txt"
"$work/aot/Qtaml.CrossCheck" --compare "$work/jit.txt" | sed 's/^/NativeAOT, /'
