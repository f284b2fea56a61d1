#!/usr/bin/env bash
# Where the milliseconds of `urun run` (a /bin/true container) go, root and
# rootless: the untraced wall and CPU time of urun and crun; a table of steps
# under perf (wall, CPU, blocked, preempted and sleeping time per step); the
# same steps under strace with the syscalls of 1 ms or more and the syscall
# counts; a CPU profile. See bench/README.md.
#   bench/profile.sh [URUN]           default: build/urun
# Environment: PROFILE_N runs per mode and view (default 7; QUICK=1: 3),
# PROFILE_COMPARE runtimes timed untraced beside urun (default crun), and
# MODES, SECCOMP as in bench/lib.sh.
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_enter_mount_ns "$@"
# crun alongside for the untraced wall and CPU times (PROFILE_COMPARE="" for urun alone).
compare=${PROFILE_COMPARE-crun}
# shellcheck disable=SC2046 # a list of runtimes
bench_runtimes "${1:-$repo/build/urun}" $(for r in $compare; do command -v "$r" || true; done)
command -v strace >/dev/null || die "strace missing: scripts/install-deps"
bench_setup
if [ "${QUICK:-0}" = 1 ]; then runs=${PROFILE_N:-3}; else runs=${PROFILE_N:-7}; fi
perf=
perf stat -x, -e task-clock -- true >/dev/null 2>&1 && perf=perf

# Step descriptions, by the milestone that starts them.
declare -A what=(
  [exec-urun]="start urun; check the binary's write protection"
  [sealed]="binary on a ro mount: moved (root) or re-exec'd"
  [config]="read, parse and validate config.json"
  [state-dir]="state dir; cgroup manager probe; record"
  [cgroup]="create and configure the cgroups"
  [clone]="clone the init; its cgroup attach; child set-up"
  [id-maps]="newuidmap, newgidmap run; the init waits for maps"
  [mounts]="mounts: rootfs, /proc, /dev, /sys, cgroup, ..."
  [pivot_root]="pivot_root, masked/ro paths, caps, seccomp, start"
  [exec-process]="the container's process runs"
  [process-exit]="reap the process; stopped"
  [teardown]="delete: cgroups, state dir; exit"
)

# untraced MODE: median wall ms and CPU ms over `runs` plain runs of each
# runtime (urun, and crun to compare with), interleaved. CPU time hardly
# depends on the machine's load: the comparison to crun that a busy machine
# still gives.
untraced() {
  local mode=$1 i k id cpu d
  for k in "${!labels[@]}"; do : >"$tmp/$mode/scratch-$k/wall" && : >"$tmp/$mode/scratch-$k/cpu"; done
  for ((i = 0; i <= runs; i++)); do # round 0 warms the caches
    for k in "${!labels[@]}"; do
      id=prof-u-$$-$i d=$tmp/$mode/scratch-$k
      forget_later "$k" "$id"
      local cmd=("${prefix[@]}" "${bins[$k]}" --root "$states/$mode/state-$k" run --bundle "$tmp/$mode/true" "$id")
      cpu=
      if [ -n "$perf" ]; then
        timed "$d" perf stat -x, -o "$d/perf" -e task-clock -- "${cmd[@]}" ||
          die "$mode: ${labels[$k]} run failed: $(cat "$d/err")"
        cpu=$(awk -F, '$3 == "task-clock" { print int($1 * 1000) }' "$d/perf")
      else
        timed "$d" "${cmd[@]}" || die "$mode: ${labels[$k]} run failed: $(cat "$d/err")"
      fi
      forget "$k" "$id"
      [ "$i" -gt 0 ] || continue
      echo "$t_us" >>"$d/wall"
      [ -n "$cpu" ] && echo "$cpu" >>"$d/cpu"
    done
  done
  untraced_line=
  for k in "${!labels[@]}"; do
    d=$tmp/$mode/scratch-$k
    local w c=-
    w=$(stats "$d/wall" | awk '{ printf "%.2f", $1 / 1000 }')
    [ -s "$d/cpu" ] && c=$(stats "$d/cpu" | awk '{ printf "%.2f", $1 / 1000 }')
    [ "$k" -eq 0 ] && wall_ms=$w
    untraced_line+="${untraced_line:+; }${labels[$k]} $w ms wall, $c ms CPU"
  done
}

# perf_steps MODE: `runs` runs under perf record (cpu-clock samples every
# 50 µs of CPU, and tracepoints that cost microseconds), each split into steps
# by bench/profile-perf.awk; then a table of the medians per step: wall, CPU,
# blocked and preempted time. The main table: near-untraced wall times.
perf_steps() {
  local mode=$1 d=$tmp/$1/scratch-0 i id ev=()
  [ -n "$perf" ] || { echo "  (no perf step table: perf not available)"; return 0; }
  for e in sched:sched_switch sched:sched_process_exec sched:sched_process_exit \
    syscalls:sys_enter_mkdir syscalls:sys_enter_mkdirat syscalls:sys_enter_clone syscalls:sys_enter_clone3 \
    syscalls:sys_enter_pivot_root syscalls:sys_enter_mount syscalls:sys_enter_rmdir \
    syscalls:sys_enter_execveat syscalls:sys_enter_prctl syscalls:sys_enter_unlinkat; do ev+=(-e "$e"); done
  rm -f "$d"/psteps.*
  for ((i = 1; i <= runs; i++)); do
    id=prof-s-$$-$i
    forget_later 0 "$id"
    if ! perf record -q -o "$d/steps.data" -e cpu-clock -c 50000 "${ev[@]}" -- "${prefix[@]}" "${bins[0]}" \
        --root "$states/$mode/state-0" run --bundle "$tmp/$mode/true" "$id" </dev/null >/dev/null 2>"$d/err"; then
      forget 0 "$id" force
      echo "  (no perf step table: perf record failed: $(head -n 1 "$d/err"))"
      return 0
    fi
    forget 0 "$id"
    perf script -i "$d/steps.data" -F comm,pid,tid,time,event,trace 2>/dev/null |
      awk -v proc=/bin/true -v period_us=50 -f "$bench_dir/profile-perf.awk" >"$d/psteps.$i" || true
  done
  echo
  echo "profile: urun run of a /bin/true container, $mode, seccomp: $seccomp: steps under perf"
  echo "  $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) cpus, load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "  untraced medians of $runs runs, CPU of the runtime and its children (perf stat):"
  echo "    $untraced_line"
  echo "  medians of $runs runs under perf record (cpu-clock every 50 us, tracepoints); blocked: off CPU in"
  echo "  D state (kernel lock, RCU grace period, I/O); preempted: off CPU while runnable (machine load);"
  echo "  sleeping: off CPU in S state (waiting for a process, pipe, timer); off-CPU times are summed over"
  echo "  urun's processes and counted in the step where they began"
  printf '%-28s %-50s %8s %8s %8s %9s %8s\n' "step (from -> to)" what "wall ms" "CPU ms" blocked preempted sleeping
  cat "$d"/psteps.* | awk -F'\t' '
    function median(list,   n, a, i, j, t) {
      n = split(list, a, " ")
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    $1 == "STEP" {
      key = $2 " -> " $3
      if (!(key in w)) keys[++nk] = key
      w[key] = w[key] " " $4; c[key] = c[key] " " $5; b[key] = b[key] " " $6; p[key] = p[key] " " $7; s[key] = s[key] " " $8
    }
    $1 == "TOTAL" { tw = tw " " $2; tc = tc " " $3 }
    END {
      for (i = 1; i <= nk; i++) { k = keys[i]; printf "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\n", k, median(w[k]), median(c[k]), median(b[k]), median(p[k]), median(s[k]) }
      printf "(total)\t%.2f\t%.2f\t-\t-\t-\n", median(tw), median(tc)
    }' | while IFS=$'\t' read -r key wall cpu blocked pre sleep; do
    printf '%-28s %-50s %8s %8s %8s %9s %8s\n' "$key" "${what[${key%% -> *}]:-}" "$wall" "$cpu" "$blocked" "$pre" "$sleep"
  done
}

# traced MODE: `runs` runs under strace, each split into steps.
traced() {
  local mode=$1 d=$tmp/$1/scratch-0 i id tracer
  for ((i = 1; i <= runs; i++)); do
    id=prof-t-$$-$i
    tracer=(strace -f -q -ttt -T -s 128 -o "$d/trace")
    if [ "$mode" = rootless ] && [ "$(id -u)" -eq 0 ]; then
      tracer+=(-u "$user" "${user_env[@]}")
    fi
    forget_later 0 "$id"
    "${tracer[@]}" "${bins[0]}" --root "$states/$mode/state-0" run --bundle "$tmp/$mode/true" "$id" \
      </dev/null >/dev/null 2>"$d/err" || die "$mode: traced run failed: $(cat "$d/err")"
    forget 0 "$id"
    awk -v id="$id" -v proc=/bin/true -f "$bench_dir/profile-steps.awk" "$d/trace" >"$d/steps.$i"
  done
}

# report MODE: the step table (medians over the traced runs) and the slow
# syscalls (summed per run by step and name; mean per run over all runs).
report() {
  local mode=$1 d=$tmp/$1/scratch-0
  cat "$d"/steps.* >"$d/all"
  local total
  total=$(awk -F'\t' '$1 == "TOTAL" { print $2 }' "$d/all" | sort -n |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  echo
  echo "profile: urun run of a /bin/true container, $mode, seccomp: $seccomp: steps under strace"
  echo "  $(date -u '+%Y-%m-%d %H:%M UTC'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "  traced (strace -f): median $total ms, $runs runs; est. ms = share of traced x untraced wall"
  printf '%-28s %-50s %9s %6s %8s %5s  %s\n' "step (from -> to)" "what" "traced ms" share "est. ms" calls \
    "slowest syscall (ms, median of runs)"
  # Per step key: median ms, median syscalls, most frequent slowest syscall.
  awk -F'\t' -v total="$total" -v wall="$wall_ms" -v runs="$runs" '
    function median(list,   n, a, i, j, t) {
      n = split(list, a, " ")
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    $1 == "STEP" {
      key = $2 " -> " $3
      if (!(key in ms)) keys[++nk] = key
      ms[key] = ms[key] " " $4; calls[key] = calls[key] " " $5
      if ($6 != "-") { worst[key, $6] = worst[key, $6] " " $7; if (++wn[key, $6] > best[key]) { best[key] = wn[key, $6]; bname[key] = $6 } }
      from[key] = $2
    }
    END {
      for (i = 1; i <= nk; i++) {
        k = keys[i]; m = median(ms[k])
        share = (total > 0) ? m / total : 0
        sw = (bname[k] == "") ? "-" : sprintf("%s %.2f (%d/%d runs)", bname[k], median(worst[k, bname[k]]), best[k], runs)
        printf "%s\t%.2f\t%.0f%%\t%s\t%d\t%s\n", k, m, share * 100, (wall == "" ? "-" : sprintf("%.2f", share * wall)), median(calls[k]), sw
      }
    }' "$d/all" | while IFS=$'\t' read -r key m share est calls sw; do
    printf '%-28s %-50s %9s %6s %8s %5s  %s\n' "$key" "${what[${key%% -> *}]:-}" "$m" "$share" "$est" "$calls" "$sw"
  done
  echo "  syscalls of 1 ms or more under strace (no waits), by step: mean ms per run, runs seen in"
  awk -F'\t' -v runs="$runs" '
    FNR == 1 { run++ }
    $1 == "SLOW" { name = $5; sub(/\(.*/, "", name); key = $3 "\t" name; sum[key] += $2; if (seen[key, run]++ == 0) nruns[key]++ ; ex[key] = substr($5, 1, 70) }
    END { for (k in sum) printf "%.2f\t%s\t%d\t%s\n", sum[k] / runs, k, nruns[k], ex[k] }' "$d"/steps.* |
    sort -t$'\t' -k1,1nr | head -n 12 | while IFS=$'\t' read -r mean step name seen ex; do
    printf '    %8s ms  %-13s %-16s %2s/%s runs  e.g. %s\n' "$mean" "$step" "$name" "$seen" "$runs" "$ex"
  done
  echo "  syscalls per run by all processes (the 16 most frequent; mean over the runs)"
  awk -F'\t' -v runs="$runs" '$1 == "COUNT" { n[$2] += $3; all += $3 }
    END { for (k in n) printf "%d\t%s\n", n[k] / runs, k; printf "%d\t(all)\n", all / runs }' \
    "$d"/steps.* | sort -k1,1nr | head -n 17 | awk '{ printf "    %6d  %s\n", $1, $2 }' | paste - - - -
}

# blocked_paths MODE: why urun's processes leave the CPU in D state (blocked
# in the kernel): `perf record -g -e sched:sched_switch` over `runs` more runs
# (of $d/loop.sh), the kernel call chains of the D switch-outs, counted.
blocked_paths() {
  local mode=$1 d=$tmp/$1/scratch-0 i
  sed 's/prof-p-/prof-b-/' "$d/loop.sh" >"$d/loop-b.sh"
  for ((i = 1; i <= runs; i++)); do forget_later 0 "prof-b-$$-$i"; done
  local ok=1
  perf record -q -g -e sched:sched_switch -o "$d/sw.data" -- sh -e "$d/loop-b.sh" \
    </dev/null >/dev/null 2>"$d/err" || ok=
  for ((i = 1; i <= runs; i++)); do forget 0 "prof-b-$$-$i" "${ok:-force}"; done
  [ -n "$ok" ] || { echo "  (no blocked paths: perf record failed: $(head -n 1 "$d/err"))"; return 0; }
  echo "  blocked in the kernel (D state): where, by kernel call chain (innermost first), times per run"
  perf script -i "$d/sw.data" -F comm,pid,trace,ip,sym 2>/dev/null | awk -v runs="$runs" '
    /prev_state=/ { d = ($0 ~ /prev_state=D/); chain = ""; n = 0; comm = $1; next }
    d && NF >= 2 && $2 !~ /^(__schedule|schedule|schedule_timeout|schedule_preempt_disabled|io_schedule|io_schedule_timeout|wait_for_completion|wait_for_completion_io_timeout|__wait_for_common|\[unknown\])$/ {
      if (n < 5) { chain = chain (n ? " < " : "") $2; n++ }
      next
    }
    NF == 0 { if (d && chain != "") count[comm ": " chain]++; d = 0 }
    END { if (d && chain != "") count[comm ": " chain]++; for (k in count) printf "%.1f\t%s\n", count[k] / runs, k }' |
    sort -k1,1nr | head -n 8 | awk -F'\t' '{ printf "    %5s  %s\n", $1, $2 }'
}

# cpu_profile MODE: where the CPU time goes, load-independent: `perf record
# -g` over `runs` runs; the shares by program and library, and the call-graph
# entries (kernel and user) that include 3% or more of all samples.
cpu_profile() {
  local mode=$1 d=$tmp/$1/scratch-0 i
  [ -n "$perf" ] || { echo "  (no CPU profile: perf not available)"; return 0; }
  for ((i = 1; i <= runs; i++)); do forget_later 0 "prof-p-$$-$i"; done
  {
    for ((i = 1; i <= runs; i++)); do
      printf '%q ' "${prefix[@]}" "${bins[0]}" --root "$states/$mode/state-0" run \
        --bundle "$tmp/$mode/true" "prof-p-$$-$i"
      echo
    done
  } >"$d/loop.sh"
  local ok=1
  perf record -q -g -F 15000 -o "$d/perf.data" -- sh -e "$d/loop.sh" \
    </dev/null >/dev/null 2>"$d/err" || ok=
  for ((i = 1; i <= runs; i++)); do forget 0 "prof-p-$$-$i" "${ok:-force}"; done
  if [ -z "$ok" ]; then
    echo "  (no CPU profile: perf record failed: $(head -n 1 "$d/err"))"
    return 0
  fi
  blocked_paths "$mode"
  echo "  CPU profile (perf record -g, $runs runs): samples by program and library"
  perf report -i "$d/perf.data" --stdio --no-children -g none --sort comm,dso --percent-limit 2 \
    2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/^/    /'
  echo "  ... and the call-graph entries including 3% or more of the samples"
  perf report -i "$d/perf.data" --stdio --children -g none --sort sym --percent-limit 3 \
    2>/dev/null | grep -v '^#' | grep -v '^$' | grep -v 'entry_SYSCALL\|0000000000000000' |
    head -n 40 | sed 's/^/    /'
}

for mode in "${modes[@]}"; do
  bench_prepare_mode "$mode"
  echo "$me: $mode: $runs untraced and $runs traced runs" >&2
  untraced "$mode"
  perf_steps "$mode"
  traced "$mode"
  report "$mode"
  cpu_profile "$mode"
done
