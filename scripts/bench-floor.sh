#!/usr/bin/env bash
# The speed ratio: whole-process wall time of klint (default rules, text
# output to /dev/null) against the floor (test/floor: parse every document
# of the plain files klint reads into yaml.v3 nodes, and build every
# kustomization with kustomize's library and parse its output the same
# way, on all cores, nothing else), alternating runs, medians of RUNS runs
# (default 7).
# Usage: scripts/bench-floor.sh KLINT FLOOR DIR...
set -euo pipefail
bin=${1:?klint binary}
floor=${2:?floor binary}
shift 2
for d in "$@"; do
  if [ ! -e "$d" ]; then
    echo "bench-floor: no input at $d; skipping"
    exit 0
  fi
done
runs=${RUNS:-7}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
fl=() kl=() rs=()
for _ in $(seq 1 "$runs"); do
  /usr/bin/time -o "$tmp" -f '%e %M' "$floor" "$@" >/dev/null
  fl+=("$(tail -n 1 "$tmp" | cut -d' ' -f1)")
  /usr/bin/time -o "$tmp" -f '%e %M' "$bin" "$@" >/dev/null 2>&1 || true
  out=$(tail -n 1 "$tmp")
  kl+=("${out% *}") rs+=("${out#* }")
done
f=$(printf '%s\n' "${fl[@]}" | median)
k=$(printf '%s\n' "${kl[@]}" | median)
r=$(printf '%s\n' "${rs[@]}" | median)
"$floor" "$@"
printf 'floor %.3f s   klint %.3f s   ratio %.2f   klint peak RSS %.0f MB   (medians of %d runs, GOMAXPROCS=%s)\n' \
  "$f" "$k" "$(echo "$k/$f" | bc -l)" "$(echo "$r/1024" | bc -l)" "$runs" "${GOMAXPROCS:-$(nproc)}"
