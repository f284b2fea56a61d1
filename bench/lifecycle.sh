#!/usr/bin/env bash
# `create`, `start` and `delete` of a /bin/true container, each timed on its
# own, root and rootless, the runtimes interleaved: median, p90, peak RSS and
# the ratio to crun per step, and their sum.
#   bench/lifecycle.sh [RUNTIME...]   default: build/urun crun runc
# Environment: see bench/lib.sh. Between `start` and `delete` the script
# waits (untimed) for `state` to say "stopped", so `delete` never needs force.
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_enter_mount_ns "$@"
bench_runtimes "$@"
bench_setup
crun_index
steps=(create start delete)

# wait_stopped K ID: polls `state` (up to 5 s) until the container stopped.
wait_stopped() {
  local s
  for _ in $(seq 500); do
    rt "$1"
    s=$("${rt_cmd[@]}" state "$2" 2>/dev/null | jq -r .status) || s=
    [ "$s" = stopped ] && return 0
    sleep 0.01
  done
  return 1
}

# one_cycle K ID: create, start, delete; records each step (round > warmup).
one_cycle() {
  local k=$1 id=$2 d=$tmp/$mode/scratch-$1 step us=()
  metered "$d"
  local base=("${meter[@]}" "${bins[$k]}" --root "$states/$mode/state-$k")
  forget_later "$k" "$id"
  timed "$d" "${base[@]}" create --bundle "$tmp/$mode/true" "$id" || { echo create >"$d/step"; return 1; }
  us+=("$t_us"); rss_c=$t_rss
  timed "$d" "${base[@]}" start "$id" || { echo start >"$d/step"; return 1; }
  us+=("$t_us"); rss_s=$t_rss
  wait_stopped "$k" "$id" || { echo "state (never stopped)" >"$d/step"; return 1; }
  timed "$d" "${base[@]}" delete "$id" || { echo delete >"$d/step"; return 1; }
  us+=("$t_us")
  forget "$k" "$id"
  [ "$i" -gt "$warmup" ] || return 0
  local stem=$tmp/$mode/lc-$k rsses=("$rss_c" "$rss_s" "$t_rss")
  for step in 0 1 2; do
    echo "${us[$step]}" >>"$stem-${steps[$step]}.us"
    echo "${rsses[$step]}" >>"$stem-${steps[$step]}.rss"
  done
  echo $((us[0] + us[1] + us[2])) >>"$stem-total.us"
}

for mode in "${modes[@]}"; do
  bench_prepare_mode "$mode"
  echo "$me: $mode: $warmup warm-up + $n measured rounds, interleaved" >&2
  for ((i = 1; i <= warmup + n; i++)); do
    order "$i" "${#labels[@]}"
    for k in "${ord[@]}"; do
      [ -n "${failed[$mode-$k]:-}" ] && continue
      if ! one_cycle "$k" "bench-lc-$$-$k-$i"; then
        forget "$k" "bench-lc-$$-$k-$i" force
        mark_failed "$mode-$k" "${labels[$k]} $mode" "$(cat "$tmp/$mode/scratch-$k/step") $i" \
          "$tmp/$mode/scratch-$k/err"
      fi
    done
  done
done

table_head "create, start, delete: each step of a /bin/true container (total: their sum)"
for mode in "${modes[@]}"; do
  for step in "${steps[@]}" total; do
    c=-
    [ -n "$crun_k" ] && c=$(median_of "$tmp/$mode/lc-$crun_k-$step")
    for k in "${!labels[@]}"; do
      table_row "$mode" "${labels[$k]} $step" "$tmp/$mode/lc-$k-$step" "$c"
    done
  done
done
failure_notes
! subject_failed
