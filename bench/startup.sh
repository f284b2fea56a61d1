#!/usr/bin/env bash
# `run` of a /bin/true container, root and rootless, every runtime and the
# unshare floor interleaved: median, p90, peak RSS, ratios to crun and floor.
#   bench/startup.sh [RUNTIME...]     default: build/urun crun runc
# Environment: see bench/lib.sh (N, WARMUP, QUICK, SECCOMP, MODES).
#
# Wall time is taken around the whole command; peak RSS is /usr/bin/time's
# %M (KiB, largest of the runtime and its children). The wrappers
# (/usr/bin/time, and setpriv + env for rootless) cost the same for every row,
# floor included.
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_enter_mount_ns "$@"
bench_runtimes "$@"
bench_setup
crun_index

for mode in "${modes[@]}"; do
  bench_prepare_mode "$mode"
  floor_cmd "$mode"
  count=$((${#labels[@]} + 1)) # the floor is the last
  echo "$me: $mode: $warmup warm-up + $n measured rounds, interleaved" >&2
  for ((i = 1; i <= warmup + n; i++)); do
    order "$i" "$count"
    for k in "${ord[@]}"; do
      if [ "$k" -eq $((count - 1)) ]; then
        d=$tmp/$mode/scratch-floor
        timed "$d" "${prefix[@]}" /usr/bin/time -f %M -o "$d/rss" "${floor[@]}" ||
          { [ -z "${failed[$mode-floor]:-}" ] && mark_failed "$mode-floor" "unshare $mode" run "$d/err"; continue; }
        [ "$i" -gt "$warmup" ] && record "$tmp/$mode/run-floor"
        continue
      fi
      [ -n "${failed[$mode-$k]:-}" ] && continue
      d=$tmp/$mode/scratch-$k id=bench-$$-$k-$i
      forget_later "$k" "$id"
      if timed "$d" "${prefix[@]}" /usr/bin/time -f %M -o "$d/rss" \
          "${bins[$k]}" --root "$tmp/$mode/state-$k" run --bundle "$tmp/$mode/true" "$id"; then
        forget "$k" "$id"
        [ "$i" -gt "$warmup" ] && record "$tmp/$mode/run-$k"
      else
        forget "$k" "$id" force
        mark_failed "$mode-$k" "${labels[$k]} $mode" "run $i" "$d/err"
      fi
    done
  done
done

table_head "run: a /bin/true container (run = create + start + wait + delete)"
for mode in "${modes[@]}"; do
  c=-
  [ -n "$crun_k" ] && c=$(median_of "$tmp/$mode/run-$crun_k")
  f=$(median_of "$tmp/$mode/run-floor")
  for k in "${!labels[@]}"; do
    table_row "$mode" "${labels[$k]}" "$tmp/$mode/run-$k" "$c" "$f"
  done
  table_row "$mode" "unshare (floor)" "$tmp/$mode/run-floor" "$c" "$f"
done
failure_notes
! subject_failed
