#!/usr/bin/env bash
# Smoke test of the benchmark harness (CTest label "bench"): one measured run
# of `urun run` alone (bench/startup.sh, N=1, no warm-up) in every mode the
# harness can measure here, and the table it prints must have a row with a
# number for urun and for the unshare floor in each of them. The benchmark
# itself is not a test (minutes long): see bench/README.md.
#   tests/bench/smoke.sh URUN-BINARY
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
urun=${1:?usage: smoke.sh URUN-BINARY}
out=$(mktemp /tmp/urun-bench-smoke.XXXXXX)
trap 'rm -f "$out"' EXIT

if ! N=1 WARMUP=0 "$repo/bench/startup.sh" "$urun" >"$out" 2>&1; then
  cat "$out"
  echo "smoke: bench/startup.sh failed" >&2
  exit 1
fi
cat "$out"
grep -q '^mode  *runtime  *median ms  *p90 ms  *peak RSS KiB  *x crun  *x floor$' "$out" ||
  { echo "smoke: no table header" >&2; exit 1; }
modes=(rootless)
[ "$(id -u)" -eq 0 ] && modes=(root rootless)
for mode in "${modes[@]}"; do
  for label in urun 'unshare (floor)'; do
    grep -Eq "^$mode +${label//[()]/.} +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9]+ +- +[0-9.]+$" "$out" ||
      { echo "smoke: no $mode row for $label" >&2; exit 1; }
  done
done
echo "smoke: the table has urun and floor rows for: ${modes[*]}"
