#!/usr/bin/env bash
# Whole-process timing of klint on the Helm chart corpus: wall time, CPU
# time and peak RSS, median of RUNS runs, with every values set (the default) and with
# default values only, each beside the floor (test/floor: the same renders
# made with Helm's SDK alone, as `helm template` makes them, and parsed);
# and kube-linter on the same charts when KUBE_LINTER names its binary (it
# renders each chart once, with default values). Runs alternate.
# Usage: scripts/bench-helm.sh BIN FLOOR CHARTS
set -euo pipefail
bin=${1:?klint binary}
floor=${2:?floor binary}
charts=${3:?directory of charts}
runs=${RUNS:-7}
if [ ! -d "$charts" ]; then
  echo "bench-helm: no charts at $charts; skipping"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'helm:\n  valuesSets: "no-such-directory/*"\n' > "$work/defaults-only.yaml"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
names=() cmds=()
add() { names+=("$1"); shift; cmds+=("$*"); }
add "klint (default values + ci/*-values.yaml)" "$bin" "$charts"
add "floor (the same renders, Helm alone)" "$floor" "$charts"
add "klint (default values only)" "$bin" --config "$work/defaults-only.yaml" "$charts"
add "floor (default values only)" "$floor" -defaults-only "$charts"
if [ -n "${KUBE_LINTER:-}" ]; then
  add "kube-linter lint (default values)" "$KUBE_LINTER" lint "$charts"
fi
for _ in $(seq 1 "$runs"); do
  for i in "${!cmds[@]}"; do
    # shellcheck disable=SC2086 # the commands are words, paths without spaces
    /usr/bin/time -o "$work/time" -f '%e %U %S %M' ${cmds[$i]} >/dev/null 2>&1 || true
    read -r e u s m < <(tail -n 1 "$work/time")
    echo "$e $(echo "$u + $s" | bc -l) $m" >> "$work/run.$i"
  done
done
col() { awk -v c="$2" '{print $c}' "$work/run.$1" | median; }
echo "median of $runs runs: wall, CPU (user + system), peak RSS"
for i in "${!cmds[@]}"; do
  printf '%-44s %6.2f s wall %6.2f s CPU %7.1f MB\n' "${names[$i]}" "$(col "$i" 1)" "$(col "$i" 2)" "$(echo "$(col "$i" 3)/1024" | bc -l)"
done
printf 'klint / floor: every values set %.2f, default values %.2f; every values set / default values: klint %.2f, floor %.2f\n' \
  "$(echo "$(col 0 1)/$(col 1 1)" | bc -l)" "$(echo "$(col 2 1)/$(col 3 1)" | bc -l)" \
  "$(echo "$(col 0 1)/$(col 2 1)" | bc -l)" "$(echo "$(col 1 1)/$(col 3 1)" | bc -l)"
if [ -n "${KUBE_LINTER:-}" ]; then
  printf 'klint (default values) / kube-linter: %.2f\n' "$(echo "$(col 2 1)/$(col 4 1)" | bc -l)"
fi
"$floor" "$charts"
echo
"$bin" "$charts" 2>/dev/null | tail -n 1 || true
