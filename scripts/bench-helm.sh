#!/usr/bin/env bash
# Whole-process timing of klint on the Helm chart corpus: wall time, CPU
# time and peak RSS, median of RUNS runs, with every values set (the default) and with
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
  local walls=() cpus=() rss=()
  for _ in $(seq 1 "$runs"); do
    /usr/bin/time -o "$work/time" -f '%e %U %S %M' "$@" >/dev/null 2>&1 || true
    local e u s m; read -r e u s m < <(tail -n 1 "$work/time")
    walls+=("$e") cpus+=("$(echo "$u + $s" | bc -l)") rss+=("$m")
  done
  printf '%-44s %6.2f s wall %6.2f s CPU %7.1f MB\n' "$name" "$(printf '%s\n' "${walls[@]}" | median)" \
    "$(printf '%s\n' "${cpus[@]}" | median)" "$(echo "$(printf '%s\n' "${rss[@]}" | median)/1024" | bc -l)"
}
echo "median of $runs runs: wall, CPU (user + system), peak RSS"
measure "klint (default values + ci/*-values.yaml)" "$bin" "$charts"
measure "klint (default values only)" "$bin" --config "$work/defaults-only.yaml" "$charts"
if [ -n "${KUBE_LINTER:-}" ]; then
  measure "kube-linter lint (default values)" "$KUBE_LINTER" lint "$charts"
fi
echo
"$bin" "$charts" 2>/dev/null | tail -n 1 || true
