# Shared set-up of the benchmarks in bench/ (sourced, not run). It gives each
# script: the runtimes to compare, the modes (root, rootless), one bundle per
# mode that every runtime runs, a command prefix per mode, interleaved timing
# of single commands, and the table printer. See bench/README.md.
#
# Environment (all optional):
#   N        measured rounds per runtime and mode (default 20; QUICK=1: 5)
#   WARMUP   unmeasured rounds first (default 3; QUICK=1: 1)
#   SECCOMP  none (default) or podman: Podman's default seccomp profile
#            (/usr/share/containers/seccomp.json) merged into linux.seccomp
#   MODES    "root rootless" (default as root), "root" or "rootless"
#   URUN_TEST_USER  the unprivileged user of rootless mode (default urun-test)
# shellcheck disable=SC2034 # variables set here are used by the scripts
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME with a '.' decimal separator

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
if [ "${QUICK:-0}" = 1 ]; then
  n=${N:-5} warmup=${WARMUP:-1}
else
  n=${N:-20} warmup=${WARMUP:-3}
fi
seccomp=${SECCOMP:-none}
me=$(basename "$0")

die() { echo "$me: $*" >&2; exit 1; }

# Debian's crun refuses a hybrid cgroup host (v1 controllers plus a cgroup2
# tree at /sys/fs/cgroup/unified). As root, re-run the calling script in a
# private mount namespace without that tree, so crun comes up; every runtime
# of the run is measured in the same namespace, so all see the same host.
# Nothing changes outside the namespace. BENCH_KEEP_CGROUP2=1 skips this.
bench_enter_mount_ns() {
  [ "$(id -u)" -eq 0 ] || return 0
  [ "${BENCH_KEEP_CGROUP2:-0}" = 1 ] && return 0
  if [ -z "${URUN_BENCH_NS:-}" ]; then
    mountpoint -q /sys/fs/cgroup/unified || return 0
    URUN_BENCH_NS=1 exec unshare --mount --propagation private -- "$0" "$@"
  fi
  if mountpoint -q /sys/fs/cgroup/unified; then
    umount -l /sys/fs/cgroup/unified
  fi
}

# Runtimes from the command line (default: the built urun, crun, runc). The
# label is the binary's name; the first runtime is the one under test.
bench_runtimes() {
  local runtime path
  [ $# -gt 0 ] || set -- "$repo/build/urun" crun runc
  labels=() paths=()
  for runtime in "$@"; do
    path=$(command -v "$runtime") || die "runtime not found: $runtime"
    labels+=("$(basename "$runtime")")
    paths+=("$(readlink -f "$path")")
  done
  command -v c++ >/dev/null || die "c++ missing (it builds bench/timer.cpp): scripts/install-deps"
  command -v jq >/dev/null || die "jq missing: scripts/install-deps"
}

# Work dir, the unprivileged user, the modes.
bench_setup() {
  tmp=$(mktemp -d /tmp/urun-bench.XXXXXX)
  chmod 0755 "$tmp"
  # urun's default cgroup parent (/urun in every hierarchy), which a run makes and leaves for
  # the next: removed at the end when this run made it (tests/leftovers.sh).
  [ "$(id -u)" -eq 0 ] && "$repo/tests/leftovers.sh" record "$tmp/cgroups-before" "/sys/fs/cgroup/*/urun"
  # The runtimes' state dirs (--root) on a tmpfs, as where both keep them by
  # default (/run/urun and /run/crun, or $XDG_RUNTIME_DIR: tmpfs wherever
  # systemd runs). This host has no tmpfs /run, and on its ext4 a file a
  # runtime creates can cost about 0.9 ms (inode allocation skipping recently
  # deleted inodes), which no user pays: in the bench's private mount
  # namespace a tmpfs is mounted there, which goes with the namespace.
  states=$tmp/states
  mkdir -p "$states"
  if [ -n "${URUN_BENCH_NS:-}" ]; then
    mount -t tmpfs -o mode=0755 urun-bench "$states" || die "cannot mount a tmpfs for the state dirs"
  fi
  declare -gA pending=() failed=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  local user_line
  if [ "$(id -u)" -eq 0 ]; then
    if user_line=$("$repo/scripts/install-deps" --test-user 2>"$tmp/user.err"); then
      read -r user uid <<<"$user_line"
      read -ra modes <<<"${MODES:-root rootless}"
    else
      echo "$me: no rootless mode: cannot set up the unprivileged user: $(cat "$tmp/user.err")" >&2
      modes=(root)
    fi
  else
    user=$(id -un) uid=$(id -u)
    modes=(rootless)
  fi
  "$repo/scripts/make-rootfs" "$tmp/rootfs" >/dev/null
  # The timer (bench/timer.cpp) runs as the mode's user, after its wrappers.
  timer=$tmp/urun-bench-timer
  c++ -O2 -o "$timer" "$bench_dir/timer.cpp" || die "cannot build bench/timer.cpp"
  chmod 0755 "$timer"
}

# Deletes what a failed or interrupted run left behind: containers (as their
# owner, by each runtime), then the work dir.
bench_cleanup() {
  local c
  for c in "${pending[@]}"; do
    eval "$c" >/dev/null 2>&1 || true
  done
  [ -n "${states:-}" ] && mountpoint -q "$states" && umount -l "$states"
  [ -n "${tmp:-}" ] && [ -f "$tmp/cgroups-before" ] &&
    "$repo/tests/leftovers.sh" remove "$tmp/cgroups-before" "/sys/fs/cgroup/*/urun"
  [ -n "${tmp:-}" ] && rm -rf "$tmp"
}

# prefix: the command prefix that runs something as the mode's user;
# user_env: its environment part (env -i ...).
prefix_for() {
  if [ "$1" = rootless ] && [ "$(id -u)" -eq 0 ]; then
    user_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/ "USER=$user"
      "XDG_RUNTIME_DIR=/run/user/$uid")
    prefix=(setpriv "--reuid=$user" "--regid=$user" --init-groups "${user_env[@]}")
  else
    prefix=(env)
  fi
}

# The mode's bundle: $tmp/MODE/{rootfs,true,sleep}. "true" runs /bin/true,
# "sleep" a long sleep (for exec); both use the one rootfs, by absolute path.
# The config is urun's `spec` (with --rootless: no uidMappings, so urun and
# crun map the user and its subordinate ids themselves), plus the seccomp
# profile when asked for. Also gives each runtime a state dir and scratch dir,
# and, for rootless, a copy of the binary if the user cannot reach it.
bench_prepare_mode() {
  local mode=$1 dir=$tmp/$1 k spec_args=(spec)
  prefix_for "$mode"
  mkdir -p "$dir/true" "$dir/sleep"
  cp -a "$tmp/rootfs" "$dir/rootfs"
  [ "$mode" = rootless ] && spec_args+=(--rootless)
  (cd "$dir" && "${paths[0]}" "${spec_args[@]}") || die "$mode: ${labels[0]} spec failed"
  # The same config for every runtime: ociVersion 1.0.2 (Debian's crun 1.8 refuses 1.3.0).
  # Rootless, without urun's built-in network (the run.urun.network annotation and the
  # network namespace `spec --rootless` adds for it), which crun and runc do not start;
  # BENCH_URUN_NETWORK=1 keeps both.
  jq --arg root "$dir/rootfs" --arg mode "$mode" --arg net "${BENCH_URUN_NETWORK:-0}" '
      .process.terminal = false | .root.path = $root | .ociVersion = "1.0.2"
      | if $mode == "rootless" and $net != "1" then
          (.annotations // {}) as $a
          | .annotations = ($a | with_entries(select(.key | startswith("run.urun.network") | not)))
          | .linux.namespaces |= map(select(.type != "network"))
        else . end' \
    "$dir/config.json" >"$dir/base.json"
  case $seccomp in
    none) ;;
    podman)
      jq --arg arch "$(uname -m)" --slurpfile profile /usr/share/containers/seccomp.json \
        -f "$bench_dir/podman-seccomp.jq" "$dir/base.json" >"$dir/base.json.new"
      mv "$dir/base.json.new" "$dir/base.json"
      ;;
    *) die "SECCOMP must be none or podman, not $seccomp" ;;
  esac
  jq '.process.args = ["/bin/true"]' "$dir/base.json" >"$dir/true/config.json"
  jq '.process.args = ["sleep", "1000000"]' "$dir/base.json" >"$dir/sleep/config.json"
  for k in "${!labels[@]}"; do
    mkdir -p "$states/$mode/state-$k" "$dir/scratch-$k"
  done
  mkdir -p "$dir/scratch-floor"
  bins=("${paths[@]}")
  if [ "$mode" = rootless ] && [ "$(id -u)" -eq 0 ]; then
    chown -R "$user:" "$dir" "$states/$mode"
    chmod 0700 "$states/$mode"/state-*
    for k in "${!labels[@]}"; do
      # The runtime binary must be reachable by the user (not under /root).
      if ! "${prefix[@]}" test -x "${paths[$k]}"; then
        install -m 0755 "${paths[$k]}" "$dir/scratch-$k/${labels[$k]}"
        bins[k]=$dir/scratch-$k/${labels[$k]}
      fi
    done
  fi
}

# rt K: the command that runs runtime K of the current mode as its user.
rt() {
  rt_cmd=("${prefix[@]}" "${bins[$1]}" --root "$states/$mode/state-$1")
}

# timed DIR CMD...: runs CMD (stdin and stdout /dev/null, stderr to DIR/err);
# sets t_us (wall µs) and t_rss (peak RSS KiB of the command and its
# children). CMD is usually the mode's prefix, then `$timer DIR/t`, then the
# command measured (see `metered`): the timer's figures are of that command
# alone, without the wrappers before it. Without the timer, t_us is the wall
# time of all of CMD and t_rss 0. Returns the command's status.
timed() {
  local dir=$1 start end
  shift
  rm -f "$dir/t"
  start=$EPOCHREALTIME
  "$@" </dev/null >/dev/null 2>"$dir/err" || return 1
  end=$EPOCHREALTIME
  if [ -s "$dir/t" ]; then
    read -r t_us t_rss <"$dir/t"
  else
    t_us=$((${end/./} - ${start/./})) t_rss=0
  fi
}

# metered DIR: sets meter to the mode's prefix and the timer writing DIR/t:
# `timed DIR "${meter[@]}" COMMAND...` times COMMAND as the mode's user.
metered() {
  meter=("${prefix[@]}" "$timer" "$1/t")
}

# record NAME: appends t_us and t_rss to the result files NAME.us, NAME.rss.
record() {
  echo "$t_us" >>"$1.us"
  echo "$t_rss" >>"$1.rss"
}

# mark_failed KEY LABEL WHAT ERRFILE: a runtime that cannot do a step is a
# result, not a harness error: its row says so, the reason goes to stderr.
mark_failed() {
  failed[$1]="${2}: $3 failed: $(head -n 1 "$4" 2>/dev/null | head -c 300)"
  echo "$me: ${failed[$1]}" >&2
}

# failure_notes: the reasons of the "failed" rows, under the table.
failure_notes() {
  local key
  for key in "${!failed[@]}"; do echo "  failed: ${failed[$key]}"; done | sort
}

# The order of the runtimes in round I: rotated each round, so no runtime
# always runs right after the same other one.
order() {
  local i=$1 count=$2 j
  ord=()
  for ((j = 0; j < count; j++)); do ord+=($(((i + j) % count))); done
}

# stats FILE: "median p90" (nearest rank) of a file of integers.
stats() {
  sort -n "$1" | awk '{ v[NR] = $1 }
    END {
      if (NR == 0) { print "- -"; exit }
      med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      r = int(0.9 * NR); if (r < 0.9 * NR) r++
      print med, v[r]
    }'
}

# Table output. table_head TITLE; table_row MODE LABEL BASE [CRUN_BASE
# FLOOR_BASE]: BASE is the result files' stem; ratios are of the medians.
table_head() {
  echo
  echo "$1"
  echo "  $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) cpus, load: $(cut -d' ' -f1-3 /proc/loadavg)," \
    "N=$n, seccomp: $seccomp"
  printf '%-9s %-16s %10s %10s %13s %8s %8s\n' mode runtime "median ms" "p90 ms" "peak RSS KiB" "x crun" "x floor"
}

median_of() { [ -s "$1.us" ] && stats "$1.us" | cut -d' ' -f1 || echo -; }

table_row() {
  local mode=$1 label=$2 stem=$3 crun_med=${4:--} floor_med=${5:--} med p90 rss
  if [ ! -s "$stem.us" ]; then
    printf '%-9s %-16s %10s\n' "$mode" "$label" failed
    return
  fi
  read -r med p90 < <(stats "$stem.us")
  rss=-
  [ -s "$stem.rss" ] && read -r rss _ < <(stats "$stem.rss")
  awk -v m="$mode" -v l="$label" -v med="$med" -v p90="$p90" -v rss="$rss" \
    -v c="$crun_med" -v f="$floor_med" 'BEGIN {
      rc = (c == "-" || c == 0) ? "-" : sprintf("%.2f", med / c)
      rf = (f == "-" || f == 0) ? "-" : sprintf("%.2f", med / f)
      printf "%-9s %-16s %10.2f %10.2f %13s %8s %8s\n", m, l, med / 1000, p90 / 1000, rss, rc, rf
    }'
}

# bench_rounds WHAT FLOOR_LABEL FN: the interleaved rounds of the current mode
# ($warmup unmeasured, then $n measured). Each round runs, in the order of
# `order`, every runtime K that has not failed yet, as `FN K ROUND DIR` (FN
# times one command with `timed` into DIR and returns its status), and the
# floor (${floor[@]}, metered the same way; skipped while empty). Measured
# times go to $tmp/$mode/WHAT-K and WHAT-floor (record); a failure marks the
# row failed with the step "WHAT ROUND".
bench_rounds() {
  local what=$1 floor_label=$2 fn=$3 count i k d
  count=$((${#labels[@]} + 1)) # the floor is the last
  echo "$me: $mode: $warmup warm-up + $n measured rounds, interleaved" >&2
  for ((i = 1; i <= warmup + n; i++)); do
    order "$i" "$count"
    for k in "${ord[@]}"; do
      if [ "$k" -eq $((count - 1)) ]; then
        [ ${#floor[@]} -gt 0 ] || continue
        d=$tmp/$mode/scratch-floor
        metered "$d"
        if timed "$d" "${meter[@]}" "${floor[@]}"; then
          [ "$i" -gt "$warmup" ] && record "$tmp/$mode/$what-floor"
        elif [ -z "${failed[$mode-floor]:-}" ]; then
          mark_failed "$mode-floor" "$floor_label $mode" "$what" "$d/err"
        fi
        continue
      fi
      [ -n "${failed[$mode-$k]:-}" ] && continue
      d=$tmp/$mode/scratch-$k
      if "$fn" "$k" "$i" "$d"; then
        [ "$i" -gt "$warmup" ] && record "$tmp/$mode/$what-$k"
      else
        mark_failed "$mode-$k" "${labels[$k]} $mode" "$what $i" "$d/err"
      fi
    done
  done
}

# bench_table WHAT TITLE FLOOR_LABEL: the table of bench_rounds' results for
# every mode, the failures under it; returns 1 when the runtime under test
# failed.
bench_table() {
  local what=$1 title=$2 floor_label=$3 mode k c f
  table_head "$title"
  for mode in "${modes[@]}"; do
    c=-
    [ -n "$crun_k" ] && c=$(median_of "$tmp/$mode/$what-$crun_k")
    f=$(median_of "$tmp/$mode/$what-floor")
    for k in "${!labels[@]}"; do
      table_row "$mode" "${labels[$k]}" "$tmp/$mode/$what-$k" "$c" "$f"
    done
    table_row "$mode" "$floor_label" "$tmp/$mode/$what-floor" "$c" "$f"
  done
  failure_notes
  ! subject_failed
}

# crun_index: the index of the runtime labelled crun, or empty.
crun_index() {
  local k
  crun_k=
  for k in "${!labels[@]}"; do [ "${labels[$k]}" = crun ] && crun_k=$k; done
  return 0
}

# The floor: unshare(1) making the same kinds of namespaces and running
# /bin/true; no runtime can start a container faster.
floor_cmd() {
  if [ "$1" = root ]; then
    floor=(unshare --mount --uts --ipc --net --pid --fork /bin/true)
  else
    floor=(unshare --user --map-root-user --mount --uts --ipc --pid --fork /bin/true)
  fi
}

# forget_later K ID: delete container ID of runtime K on exit unless it is
# deleted before (forget K ID). Covers interrupted and failed runs.
forget_later() {
  rt "$1"
  pending[$mode:$1:$2]=$(printf '%q ' "${rt_cmd[@]}" delete --force "$2")
}
# forget K ID [force]: the container is gone (or, with force, delete it now).
forget() {
  if [ "${3:-}" = force ]; then
    rt "$1"
    "${rt_cmd[@]}" delete --force "$2" >/dev/null 2>&1 || true
  fi
  unset "pending[$mode:$1:$2]"
}

# subject_failed: status of the script: the runtime under test (the first)
# must have worked in every mode; others failing is reported in their rows.
subject_failed() {
  local key
  for key in "${!failed[@]}"; do [[ $key == *-0 ]] && return 0; done
  return 1
}
