# Splits an `strace -f -ttt -T` log of one `urun run` into steps.
#   awk -v id=CONTAINER-ID -v proc=/bin/true -f profile-steps.awk TRACE
# A step runs from one milestone (the first syscall that marks it) to the next
# milestone found; a milestone missing from the log (no cgroup when rootless,
# no id-map helper as root) merges its step into the one before. Prints:
#   STEP <from> <to> <ms> <syscalls> <slowest syscall of the step> <its ms>
#   SLOW <ms> <step> <pid> <syscall and arguments>   (every syscall of 1 ms or
#        more, except waits for another process: recvmsg, wait4, poll, ...)
#   COUNT <syscall> <calls>   (by every process of the run)
#   TOTAL <ms>   (from urun's exec to the end of the log)
# Times are wall-clock under strace, which slows every syscall: read them as
# shares of the run, not as untraced milliseconds.

function mark(name, t) {
  if (!(name in at)) { at[name] = t; order[++marks] = name }
}

BEGIN {
  main = ""; init = ""
  waits = "^(recvmsg|recvfrom|read|wait4|waitid|rt_sigtimedwait|poll|ppoll|epoll_wait|epoll_pwait|select|pselect6|futex|pidfd_send_signal)$"
}

{
  pid = $1; t = $2 * 1000.0
  line = $0
  sub(/^[0-9]+ +[0-9.]+ +/, "", line)
  if (main == "") { main = pid; t0 = t }
  last = t
  nsys++
  time_of[NR] = t

  # The duration (-T) is at the end of a finished or resumed call.
  dur = 0
  if (match(line, /<[0-9.]+>$/)) dur = substr(line, RSTART + 1, RLENGTH - 2) * 1000.0
  if (line ~ /<unfinished \.\.\.>$/) { pending[pid] = line; start_of[pid] = t }
  call = line
  start = t
  if (line ~ /^<\.\.\. [a-z0-9_]+ resumed>/) {
    call = (pid in pending) ? pending[pid] : line
    start = (pid in start_of) ? start_of[pid] : t - dur
    delete pending[pid]
  }
  name = call
  sub(/\(.*/, "", name)
  if (line !~ /^(<\.\.\.|\+\+\+|---)/) count[name]++
  if (dur >= 1.0 && name !~ waits) {
    n_slow++
    slow_ms[n_slow] = dur; slow_t[n_slow] = start
    slow_call[n_slow] = pid "\t" substr(call, 1, 110)
  }

  if (pid == main && line ~ /^execve\("[^"]*urun"/) mark("exec-urun", t)
  else if (pid == main && line ~ /^execveat\(|^execve\("\/proc\/self\/fd|^prctl\(PR_SET_MM, PR_SET_MM_MAP/) mark("sealed", t)
  else if (line ~ /^openat\(.*config\.json", O_RDONLY/) mark("config", t)
  else if (line ~ ("^mkdirat\\([0-9]+, \"" id "\"")) mark("state-dir", t)
  else if (line ~ /^mkdir\("\/sys\/fs\/cgroup\//) mark("cgroup", t)
  else if (line ~ /^clone3?\(.*CLONE_NEW/) mark("clone", t)
  else if (line ~ /^execve\("[^"]*newuidmap"|uid_map", O_WRONLY/) mark("id-maps", t)
  else if (("clone" in at) && line ~ /^mount\(/) mark("mounts", t)
  else if (line ~ /^pivot_root\(/) mark("pivot_root", t)
  else if (line ~ ("^execve\\(\"" proc "\"")) { mark("exec-process", t); init = pid }
  else if (init != "" && pid == init && line ~ /^\+\+\+ exited/) mark("process-exit", t)
  else if (("process-exit" in at) && line ~ /^rmdir\(|^unlinkat\(/) mark("teardown", t)
}

END {
  mark("end", last)
  # Milestones in time order (they are found in log order already).
  for (i = 1; i < marks; i++) {
    from = order[i]; to = order[i + 1]
    n = 0; worst = 0; worst_call = "-"
    for (j = 1; j <= n_slow; j++)
      if (slow_t[j] >= at[from] && slow_t[j] < at[to] && slow_ms[j] > worst) {
        worst = slow_ms[j]; worst_call = slow_call[j]
      }
    for (r = 1; r <= NR; r++) if (time_of[r] >= at[from] && time_of[r] < at[to]) n++
    sub(/\(.*/, "", worst_call)
    sub(/^[0-9]+\t/, "", worst_call)
    printf "STEP\t%s\t%s\t%.3f\t%d\t%s\t%.3f\n", from, to, at[to] - at[from], n, worst_call, worst
  }
  for (j = 1; j <= n_slow; j++) {
    step = "-"
    for (i = 1; i < marks; i++)
      if (slow_t[j] >= at[order[i]] && slow_t[j] < at[order[i + 1]]) step = order[i]
    printf "SLOW\t%.3f\t%s\t%s\n", slow_ms[j], step, slow_call[j]
  }
  for (name in count) printf "COUNT\t%s\t%d\n", name, count[name]
  printf "TOTAL\t%.3f\n", last - at[order[1]]
}
