#!/usr/bin/env bash
# `exec` of /bin/true into a running container (busybox sleep), root and
# rootless, the runtimes interleaved: median, p90, peak RSS, ratios to crun
# and to the floor: nsenter(1) into the first runtime's container's
# namespaces running /bin/true.
#   bench/exec.sh [RUNTIME...]        default: build/urun crun runc
# Environment: see bench/lib.sh.
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_enter_mount_ns "$@"
bench_runtimes "$@"
bench_setup
crun_index

for mode in "${modes[@]}"; do
  bench_prepare_mode "$mode"
  # One running container per runtime.
  declare -A cid=()
  floor=()
  for k in "${!labels[@]}"; do
    id=bench-exec-$$-$k d=$tmp/$mode/scratch-$k
    rt "$k"
    forget_later "$k" "$id"
    if ! "${rt_cmd[@]}" run --detach --bundle "$tmp/$mode/sleep" "$id" \
        </dev/null >/dev/null 2>"$d/err"; then
      forget "$k" "$id" force
      mark_failed "$mode-$k" "${labels[$k]} $mode" "run --detach" "$d/err"
      continue
    fi
    cid[$k]=$id
    if [ ${#floor[@]} -eq 0 ]; then
      pid=$("${rt_cmd[@]}" state "$id" | jq -r .pid)
      floor=(nsenter --target "$pid")
      # The namespaces the container does not share with us (--all would
      # also try the shared ones, which an unprivileged user may not enter).
      for ns in user:-U mnt:-m uts:-u ipc:-i net:-n pid:-p cgroup:-C; do
        [ "$(readlink "/proc/$pid/ns/${ns%%:*}")" = "$(readlink "/proc/self/ns/${ns%%:*}")" ] ||
          floor+=("${ns#*:}")
      done
      [ "$mode" = rootless ] && floor+=(--preserve-credentials)
      floor+=(/bin/true)
    fi
  done
  count=$((${#labels[@]} + 1)) # the floor is the last
  echo "$me: $mode: $warmup warm-up + $n measured rounds, interleaved" >&2
  for ((i = 1; i <= warmup + n; i++)); do
    order "$i" "$count"
    for k in "${ord[@]}"; do
      if [ "$k" -eq $((count - 1)) ]; then
        [ ${#floor[@]} -gt 0 ] || continue
        d=$tmp/$mode/scratch-floor
        timed "$d" "${prefix[@]}" /usr/bin/time -f %M -o "$d/rss" "${floor[@]}" ||
          { [ -z "${failed[$mode-floor]:-}" ] && mark_failed "$mode-floor" "nsenter $mode" exec "$d/err"; continue; }
        [ "$i" -gt "$warmup" ] && record "$tmp/$mode/exec-floor"
        continue
      fi
      [ -n "${failed[$mode-$k]:-}" ] && continue
      d=$tmp/$mode/scratch-$k
      if timed "$d" "${prefix[@]}" /usr/bin/time -f %M -o "$d/rss" \
          "${bins[$k]}" --root "$tmp/$mode/state-$k" exec "${cid[$k]}" /bin/true; then
        [ "$i" -gt "$warmup" ] && record "$tmp/$mode/exec-$k"
      else
        mark_failed "$mode-$k" "${labels[$k]} $mode" "exec $i" "$d/err"
      fi
    done
  done
  for k in "${!cid[@]}"; do forget "$k" "${cid[$k]}" force; done
  unset cid
done

table_head "exec: /bin/true into a running container (floor: nsenter into its namespaces)"
for mode in "${modes[@]}"; do
  c=-
  [ -n "$crun_k" ] && c=$(median_of "$tmp/$mode/exec-$crun_k")
  f=$(median_of "$tmp/$mode/exec-floor")
  for k in "${!labels[@]}"; do
    table_row "$mode" "${labels[$k]}" "$tmp/$mode/exec-$k" "$c" "$f"
  done
  table_row "$mode" "nsenter (floor)" "$tmp/$mode/exec-floor" "$c" "$f"
done
failure_notes
! subject_failed
