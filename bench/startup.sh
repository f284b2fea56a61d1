#!/usr/bin/env bash
# `run` of a /bin/true container, root and rootless, every runtime and the
# unshare floor interleaved: median, p90, peak RSS, ratios to crun and floor.
#   bench/startup.sh [RUNTIME...]     default: build/urun crun runc
# Environment: see bench/lib.sh (N, WARMUP, QUICK, SECCOMP, MODES).
#
# Wall time and peak RSS (KiB, largest of the runtime and its children) are
# taken by bench/timer.cpp, started as the mode's user after its wrappers
# (setpriv and env for rootless), so they are of the runtime command alone,
# as in the user's own shell; the floor is measured the same way.
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_enter_mount_ns "$@"
bench_runtimes "$@"
bench_setup
crun_index

# run_once K ROUND DIR: one `run` of a fresh container by runtime K.
run_once() {
  local id=bench-$$-$1-$2
  forget_later "$1" "$id"
  metered "$3"
  if timed "$3" "${meter[@]}" \
      "${bins[$1]}" --root "$states/$mode/state-$1" run --bundle "$tmp/$mode/true" "$id"; then
    forget "$1" "$id"
    return 0
  fi
  forget "$1" "$id" force
  return 1
}

for mode in "${modes[@]}"; do
  bench_prepare_mode "$mode"
  floor_cmd "$mode"
  bench_rounds run unshare run_once
done

bench_table run "run: a /bin/true container (run = create + start + wait + delete)" "unshare (floor)"
