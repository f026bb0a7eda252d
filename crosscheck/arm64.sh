#!/usr/bin/env bash
# The generated kernels on ARM64 (where edge devices live), on an x64 machine: publishes crosscheck/Qtaml.CrossCheck
# self-contained for linux-x64 and linux-arm64, runs the x64 build natively and the arm64 build under qemu-user
# (user-mode emulation: the arm64 binary, the arm64 .NET runtime and its JIT run as they would on an ARM64 CPU with
# NEON), and fails if any output differs from the x64 one by more than 1e-5 (relative, or absolute below 1).
# Needs Debian's qemu-user and the arm64 C runtime: installed here when missing (as root, as CI runs).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! command -v qemu-aarch64 > /dev/null || [ ! -e /lib/ld-linux-aarch64.so.1 ]; then
  dpkg --add-architecture arm64
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64 zlib1g:arm64 > /dev/null
fi

for rid in linux-x64 linux-arm64; do
  dotnet publish "$repo/crosscheck/Qtaml.CrossCheck" -c Release -p:CrossCheckRuntime="$rid" -o "$work/$rid" --nologo -v quiet
done
"$work/linux-x64/Qtaml.CrossCheck" > "$work/x64.txt"
# W^X off: under emulation each write/execute remap of JIT code is slow, and it changes nothing the check compares.
DOTNET_EnableWriteXorExecute=0 qemu-aarch64 "$work/linux-arm64/Qtaml.CrossCheck" --compare "$work/x64.txt"
