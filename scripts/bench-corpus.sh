#!/usr/bin/env bash
# Whole-process timing of klint on the manifest corpus at 1x, 4x and 16x its
# size: wall time and peak RSS, median of RUNS runs each (default rules and
# schema checks, text output to /dev/null).
# Usage: scripts/bench-corpus.sh BIN CORPUS
set -euo pipefail
bin=${1:?klint binary}
corpus=${2:?corpus directory}
runs=${RUNS:-7}
if [ ! -d "$corpus" ]; then
  echo "bench-corpus: no corpus at $corpus; skipping the whole-process timing"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-6s %9s %8s %10s %12s %12s\n' scale objects MB wall_s objects/s peak_rss_MB
for scale in 1 4 16; do
  dir="$work/x$scale"
  mkdir -p "$dir"
  for i in $(seq 1 "$scale"); do cp -r "$corpus" "$dir/copy$i"; done
  bytes=$(find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) -printf '%s\n' | awk '{s+=$1} END {print s}')
  objects=$({ "$bin" --format json "$dir" 2>/dev/null || true; } | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["objects"])')
  walls=() rss=()
  for _ in $(seq 1 "$runs"); do
    /usr/bin/time -o "$work/time" -f '%e %M' "$bin" "$dir" >/dev/null 2>&1 || true
    out=$(tail -n 1 "$work/time")
    walls+=("${out% *}") rss+=("${out#* }")
  done
  wall=$(printf '%s\n' "${walls[@]}" | median)
  peak=$(printf '%s\n' "${rss[@]}" | median)
  printf '%-6s %9d %8.1f %10.3f %12.0f %12.1f\n' "${scale}x" "$objects" "$(echo "$bytes/1048576" | bc -l)" "$wall" "$(echo "$objects/$wall" | bc -l)" "$(echo "$peak/1024" | bc -l)"
done
