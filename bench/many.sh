#!/usr/bin/env bash
# 100 `run`s of a /bin/true container, 10 at a time (xargs -P 10), root and
# rootless, the runtimes and the unshare floor interleaved: total wall time
# per batch, median and p90 over the rounds, ratios to crun and to the floor.
#   bench/many.sh [RUNTIME...]        default: build/urun crun runc
# Environment: see bench/lib.sh; MANY_N rounds (default N/4, at least 1),
# MANY_COUNT containers per round (default 100), MANY_PAR at a time (10).
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_enter_mount_ns "$@"
bench_runtimes "$@"
bench_setup
crun_index
rounds=${MANY_N:-$((n >= 4 ? n / 4 : 1))}
total=${MANY_COUNT:-100} par=${MANY_PAR:-10}
seq 1 "$total" >"$tmp/ids"

# bench_many_cleanup K ROUND: deletes whatever a failed batch left.
bench_many_cleanup() {
  local id
  rt "$1"
  for id in $(seq 1 "$total"); do
    "${rt_cmd[@]}" delete --force "many-$$-$2-$id" >/dev/null 2>&1 || true
  done
}

for mode in "${modes[@]}"; do
  bench_prepare_mode "$mode"
  floor_cmd "$mode"
  count=$((${#labels[@]} + 1)) # the floor is the last
  echo "$me: $mode: 1 warm-up + $rounds measured rounds of $total, $par at a time" >&2
  for ((i = 0; i <= rounds; i++)); do
    order "$i" "$count"
    for k in "${ord[@]}"; do
      if [ "$k" -eq $((count - 1)) ]; then
        d=$tmp/$mode/scratch-floor
        metered "$d"
        timed "$d" "${meter[@]}" xargs -a "$tmp/ids" -P "$par" -I{} "${floor[@]}" ||
          { [ -z "${failed[$mode-floor]:-}" ] && mark_failed "$mode-floor" "unshare $mode" batch "$d/err"; continue; }
        [ "$i" -gt 0 ] && echo "$t_us" >>"$tmp/$mode/many-floor.us"
        continue
      fi
      [ -n "${failed[$mode-$k]:-}" ] && continue
      d=$tmp/$mode/scratch-$k
      pending[$mode:$k:many]="bench_many_cleanup $k $i"
      metered "$d"
      if timed "$d" "${meter[@]}" xargs -a "$tmp/ids" -P "$par" -I{} \
          "${bins[$k]}" --root "$states/$mode/state-$k" run --bundle "$tmp/$mode/true" "many-$$-$i-{}"; then
        [ "$i" -gt 0 ] && echo "$t_us" >>"$tmp/$mode/many-$k.us"
      else
        bench_many_cleanup "$k" "$i"
        mark_failed "$mode-$k" "${labels[$k]} $mode" "batch $i" "$d/err"
      fi
      unset "pending[$mode:$k:many]"
    done
  done
done

n=$rounds
bench_table many "$total containers, $par at a time: wall time of the whole batch (run of /bin/true each)" \
  "unshare (floor)"
