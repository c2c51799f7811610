#!/usr/bin/env bash
# Whole-process timing of klint on the Helm chart corpus: wall time and peak
# RSS, median of RUNS runs, with every values set (the default) and with
# default values only; and kube-linter on the same charts when KUBE_LINTER
# names its binary (it renders each chart once, with default values).
# Usage: scripts/bench-helm.sh BIN CHARTS
set -euo pipefail
bin=${1:?klint binary}
charts=${2:?directory of charts}
runs=${RUNS:-7}
if [ ! -d "$charts" ]; then
  echo "bench-helm: no charts at $charts; skipping"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'helm:\n  valuesSets: "no-such-directory/*"\n' > "$work/defaults-only.yaml"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # name, command...
  local name=$1; shift
  local walls=() rss=()
  for _ in $(seq 1 "$runs"); do
    /usr/bin/time -o "$work/time" -f '%e %M' "$@" >/dev/null 2>&1 || true
    local out; out=$(tail -n 1 "$work/time")
    walls+=("${out% *}") rss+=("${out#* }")
  done
  printf '%-40s %8.2f s %8.1f MB\n' "$name" "$(printf '%s\n' "${walls[@]}" | median)" "$(echo "$(printf '%s\n' "${rss[@]}" | median)/1024" | bc -l)"
}
echo "median of $runs runs: wall, peak RSS"
measure "klint (default values + ci/*-values.yaml)" "$bin" "$charts"
measure "klint (default values only)" "$bin" --config "$work/defaults-only.yaml" "$charts"
if [ -n "${KUBE_LINTER:-}" ]; then
  measure "kube-linter lint (default values)" "$KUBE_LINTER" lint "$charts"
fi
echo
"$bin" "$charts" 2>/dev/null | tail -n 1 || true
