# Splits the `perf script` of one `urun run`, recorded with cpu-clock samples
# every PERIOD_US of CPU time and a few tracepoints, into steps: wall time and
# CPU time (samples of every process of the run) per step.
#   perf script -F comm,pid,tid,time,event,trace | awk -v proc=/bin/true -v period_us=50 -f profile-perf.awk
# Milestones (the first event that marks each): urun's exec; the binary's
# protection (prctl PR_SET_MM, moving onto a read-only mount, or the re-exec
# from one: execveat); the state dir (mkdirat, mode 0700); the
# first cgroup mkdir (mode 0755); the clone of the init (clone with CLONE_NEW*
# flags); the spawn of newuidmap (clone3); the init's first mount; pivot_root; the exec of
# the process; its exit; the first rmdir/unlinkat after it; urun's exit. A
# milestone missing from the run merges its step into the one before. Prints
#   STEP <from> <to> <wall ms> <cpu ms> <blocked ms> <preempted ms> <sleeping ms>
#   TOTAL <wall ms> <cpu ms>
# Blocked: off CPU in uninterruptible sleep (D: a kernel lock, an RCU grace
# period, I/O); preempted: off CPU while runnable (R: the machine's load);
# sleeping: off CPU in interruptible sleep (S: waiting for another process,
# a pipe, a timer).
# Both are summed over the run's processes and counted in the step where the
# spell began; with sched:sched_switch recorded.
# Tracepoints cost microseconds, so wall times are near untraced ones; CPU
# time is what the run's processes used, whatever else the machine ran.

# hex("6c020011") = its value; has_new_ns(v): one of the CLONE_NEW* bits
# (NS 17, CGROUP 25, UTS 26, IPC 27, USER 28, PID 29, NET 30). mawk has no
# strtonum() or and().
function hex(s,   i, v) {
  v = 0
  for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
  return v
}
function has_new_ns(v,   k) {
  if (int(v / 2 ^ 17) % 2) return 1
  for (k = 25; k <= 30; k++) if (int(v / 2 ^ k) % 2) return 1
  return 0
}

function mark(name, t) {
  if (!(name in at)) { at[name] = t; order[++marks] = name }
}

BEGIN { main = ""; init = ""; proc_pid = "" }

match($0, /^ *[^ ]+ +[0-9]+\/[0-9]+ +[0-9.]+: +[^ ]+:/) {
  head = substr($0, RSTART, RLENGTH)
  rest = substr($0, RLENGTH + 1)
  split(head, f, " ")
  split(f[2], ids, "/"); pid = ids[1]
  t = f[3] * 1000.0
  ev = f[4]; sub(/:$/, "", ev)

  # Back on a CPU after a switch-out: the off-CPU spell ends at its first
  # event (switch-ins happen in another task's context: perf does not see them).
  if (pid in off_start) {
    n_off++; off_t[n_off] = off_start[pid]; off_ms[n_off] = t - off_start[pid]; off_st[n_off] = off_state[pid]
    delete off_start[pid]
  }
  if (ev == "cpu-clock") { n_samples++; sample_t[n_samples] = t; next }
  if (ev == "sched:sched_switch") {
    if (match(rest, /prev_state=[A-Z+]+/)) {
      off_start[pid] = t; off_state[pid] = substr(rest, RSTART + 11, 1)
    }
    next
  }

  if (ev == "sched:sched_process_exec" && main == "" && rest ~ /filename=[^ ]*urun /) {
    main = pid; mark("exec-urun", t); next
  }
  if (main == "") next
  if ((ev == "syscalls:sys_enter_execveat" || (ev == "syscalls:sys_enter_prctl" && rest ~ /option: 0x00000023/)) && pid == main) mark("sealed", t)
  else if (ev == "syscalls:sys_enter_mkdirat" && pid == main && rest ~ /mode: 0x000001c0/) mark("state-dir", t)
  else if (ev == "syscalls:sys_enter_mkdir" && pid == main && rest ~ /mode: 0x000001ed/) mark("cgroup", t)
  else if (ev == "syscalls:sys_enter_clone" && !("clone" in at)) {
    if (match(rest, /clone_flags: 0x[0-9a-f]+/) && has_new_ns(hex(substr(rest, RSTART + 15, RLENGTH - 15))))
      mark("clone", t)
  }
  # The spawn (vfork) of newuidmap: its exec is not seen, as perf stops
  # following a task that executes a setuid program. urun spawns it with
  # clone(CLONE_VM|CLONE_VFORK|SIGCHLD), 0x4111; posix_spawn (before
  # 2026-12-07) used clone3.
  else if (ev == "syscalls:sys_enter_clone3" && pid == main && ("clone" in at)) mark("id-maps", t)
  else if (ev == "syscalls:sys_enter_clone" && pid == main && ("clone" in at) && rest ~ /clone_flags: 0x0*4111[ ,]/) mark("id-maps", t)
  else if (ev == "syscalls:sys_enter_mount" && ("clone" in at) && pid != main) mark("mounts", t)
  else if (ev == "syscalls:sys_enter_pivot_root") mark("pivot_root", t)
  else if (ev == "sched:sched_process_exec" && index(rest, "filename=" proc " ")) {
    mark("exec-process", t); proc_pid = pid
  }
  else if (ev == "sched:sched_process_exit" && pid == proc_pid) mark("process-exit", t)
  else if ((ev == "syscalls:sys_enter_rmdir" || ev == "syscalls:sys_enter_unlinkat") && pid == main && ("process-exit" in at)) mark("teardown", t)
  else if (ev == "sched:sched_process_exit" && pid == main) mark("end", t)
}

END {
  if (!("end" in at) || marks < 2) { print "ERROR\tno urun run found in the perf script"; exit 1 }
  for (i = 1; i < marks; i++) {
    from = order[i]; to = order[i + 1]
    n = 0
    for (j = 1; j <= n_samples; j++) if (sample_t[j] >= at[from] && sample_t[j] < at[to]) n++
    cpu_all += n
    d = 0; r = 0; sl = 0
    for (j = 1; j <= n_off; j++) if (off_t[j] >= at[from] && off_t[j] < at[to]) {
      if (off_st[j] == "D") d += off_ms[j]; else if (off_st[j] == "R") r += off_ms[j]; else if (off_st[j] == "S") sl += off_ms[j]
    }
    printf "STEP\t%s\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\n", from, to, at[to] - at[from], n * period_us / 1000.0, d, r, sl
  }
  printf "TOTAL\t%.3f\t%.3f\n", at["end"] - at[order[1]], cpu_all * period_us / 1000.0
}
