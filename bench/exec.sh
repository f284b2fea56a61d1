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

# exec_once K ROUND DIR: one `exec` into runtime K's running container.
exec_once() {
  metered "$3"
  timed "$3" "${meter[@]}" "${bins[$1]}" --root "$states/$mode/state-$1" exec "${cid[$1]}" /bin/true
}

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
  bench_rounds exec nsenter exec_once
  for k in "${!cid[@]}"; do forget "$k" "${cid[$k]}" force; done
  unset cid
done

bench_table exec "exec: /bin/true into a running container (floor: nsenter into its namespaces)" \
  "nsenter (floor)"
