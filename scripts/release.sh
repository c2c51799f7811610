#!/usr/bin/env bash
# Static release binaries: klint for linux, darwin and windows on amd64 and
# arm64, the admission webhook for linux on both, into DIST with a
# SHA256SUMS file (sha256sum -c SHA256SUMS checks a download).
# Usage: scripts/release.sh VERSION DIST
# TARGETS (default all six, os/arch separated by spaces) picks some.
set -euo pipefail
version=$1 dist=$2
targets=${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64}
rm -rf "$dist"
mkdir -p "$dist"
ldflags="-s -w -X main.version=$version"
build() { # os arch package name
  local out="$dist/$4-$version-$1-$2"
  [ "$1" = windows ] && out+=.exe
  local start=$SECONDS
  CGO_ENABLED=0 GOOS=$1 GOARCH=$2 go build -trimpath -ldflags "$ldflags" -o "$out" "$3"
  echo "  $(basename "$out") ($((SECONDS - start)) s)"
}
for t in $targets; do
  build "${t%/*}" "${t#*/}" ./cmd/klint klint
  if [ "${t%/*}" = linux ]; then
    build linux "${t#*/}" ./cmd/admission-webhook admission-webhook
  fi
done
(cd "$dist" && sha256sum -- * > SHA256SUMS)
echo "wrote $dist/SHA256SUMS"
