# The cases of the Podman suite (sourced by podman-test.sh). Each case_NAME is one CTest test per
# mode; it uses pm (Podman on urun), names its containers with `name` so cases can run in
# parallel, and removes them on exit even when it fails.
IMAGE=localhost/busybox

# Containers and pods a case made, removed when it exits.
CREATED=()
PODS=()
remove_created() {
  local c
  for c in "${CREATED[@]}"; do pm rm --force --time 0 "$c" >/dev/null 2>&1 || true; done
  for c in "${PODS[@]}"; do pm pod rm --force --time 0 "$c" >/dev/null 2>&1 || true; done
}
trap remove_created EXIT

# detached NAME ARGS...: podman run -d --name NAME ARGS..., remembered for clean-up.
detached() {
  local n=$1
  shift
  CREATED+=("$n")
  pm run -d --name "$n" "$@" >/dev/null || die "podman run -d $n failed"
}

# A process that exits at once on SIGTERM (a shell as pid 1 ignores it by default).
SLEEPER='trap "exit 0" TERM; while :; do sleep 0.1; done'

# logs_contain NAME TEXT
logs_contain() { pm logs "$1" 2>&1 | grep -q "$2"; }

# wait_for WHAT CMD...: polls CMD for up to 10 s (slow machines: no fixed sleeps).
wait_for() {
  local what=$1
  shift
  for _ in $(seq 100); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "timed out waiting for $what"
}

# ---- the Podman contract ----------------------------------------------------------

case_run_rm() {
  local n
  n=$(name c)
  expect_eq "output of run --rm" "hello from urun" "$(pm run --rm --name "$n" $IMAGE echo hello from urun)"
  expect_eq "container left after --rm" "" "$(pm ps -a --quiet --filter "name=^$n\$")"
  # -i: conmon passes stdin through.
  expect_status "run -i status" 4 pm run --rm -i $IMAGE sh <<<'echo from stdin; exit 4'
  expect_eq "run -i output" "from stdin" "$OUT"
}

# Podman maps urun's --log JSON error to 127 (not found) and 126 (not executable).
case_exit_codes() {
  expect_status "exit 3" 3 pm run --rm $IMAGE sh -c 'exit 3'
  expect_status "missing program" 127 pm run --rm $IMAGE /no/such/program
  expect_match "127 message" "[Nn]o such file or directory" "$OUT"
  expect_status "program not in PATH" 127 pm run --rm $IMAGE nosuchcmd
  expect_match "127 PATH message" "executable file not found in \\\$PATH" "$OUT"
  expect_status "not executable" 126 pm run --rm $IMAGE /etc/passwd
  expect_match "126 message" "[Pp]ermission denied" "$OUT"
  # The same contract for exec, through conmon's exec.
  local n
  n=$(name c)
  detached "$n" $IMAGE sh -c "$SLEEPER"
  expect_status "exec exit 3" 3 pm exec "$n" sh -c 'exit 3'
  expect_status "exec missing program" 127 pm exec "$n" /no/such/program
  expect_status "exec program not in PATH" 127 pm exec "$n" nosuchcmd
  expect_status "exec not executable" 126 pm exec "$n" /etc/passwd
}

case_detach_exec_logs_stop_rm() {
  local n
  n=$(name c)
  detached "$n" $IMAGE sh -c "echo started; $SLEEPER"
  expect_eq "status after run -d" "running" "$(pm inspect --format '{{.State.Status}}' "$n")"
  expect_eq "exec output" "in exec" "$(pm exec "$n" echo in exec)"
  expect_eq "exec sees the container's pid 1" "sh" "$(pm exec "$n" cat /proc/1/comm)"
  expect_eq "exec --env --workdir" "x=1 /tmp" "$(pm exec --env X=1 --workdir /tmp "$n" sh -c 'echo x=$X $PWD')"
  expect_eq "exec --user" "1000" "$(pm exec --user 1000 "$n" id -u)"
  expect_eq "exec -d" "" "$(pm exec -d "$n" sh -c 'echo detached > /tmp/d' | grep -v '^[0-9a-f]\{64\}$' || true)"
  wait_for "exec -d to write" pm exec "$n" test -s /tmp/d
  expect_eq "exec -d wrote" "detached" "$(pm exec "$n" cat /tmp/d)"
  expect_eq "logs" "started" "$(pm logs "$n")"
  local start end
  start=$(date +%s)
  pm stop --time 20 "$n" >/dev/null || die "podman stop failed"
  end=$(date +%s)
  [ $((end - start)) -lt 10 ] || die "stop took $((end - start))s: SIGTERM did not reach the container"
  expect_eq "status after stop" "exited 0" "$(pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$n")"
  pm rm "$n" >/dev/null || die "podman rm failed"
  expect_eq "container left after rm" "" "$(pm ps -a --quiet --filter "name=^$n\$")"
}

case_tty() {
  expect_eq "run -t" "/dev/pts/0" "$(pm run --rm -t $IMAGE tty | tr -d '\r')"
  local n
  n=$(name c)
  detached "$n" $IMAGE sh -c "$SLEEPER"
  expect_match "exec -t" "^/dev/pts/[0-9]+$" "$(pm exec -t "$n" tty | tr -d '\r')"
  expect_eq "exec without -t" "not a tty" "$(pm exec "$n" tty || true)"
  # The terminal's line discipline is there: output newlines become CRLF.
  expect_eq "run -t onlcr" "a^M\$" "$(pm run --rm -t $IMAGE echo a | cat -A)"
  expect_eq "exec -i stdin" "typed" "$(echo typed | pm exec -i "$n" cat)"
}

case_kill_signal() {
  local n
  n=$(name c)
  detached "$n" $IMAGE sh -c 'trap "echo got USR1; exit 7" USR1; echo ready; while :; do sleep 0.1; done'
  wait_for "the trap to be set" logs_contain "$n" ready
  pm kill --signal USR1 "$n" >/dev/null || die "podman kill failed"
  expect_eq "exit code after SIGUSR1" "7" "$(pm wait "$n")"
  expect_eq "logs after SIGUSR1" "ready got USR1" "$(pm logs "$n" | tr '\n' ' ' | sed 's/ $//')"
  n=$(name k)
  detached "$n" $IMAGE sleep 1000
  pm kill "$n" >/dev/null || die "podman kill (SIGKILL) failed"
  expect_eq "exit code after SIGKILL" "137" "$(pm wait "$n")"
}

case_user() {
  expect_eq "--user 1000:1000" "uid=1000(user) gid=1000(user) groups=1000(user)" \
    "$(pm run --rm --user 1000:1000 $IMAGE id)"
  expect_eq "--user nobody" "65534" "$(pm run --rm --user nobody $IMAGE id -u)"
  expect_match "--group-add" "^uid=0\\(root\\) gid=0\\(root\\) groups=.*1000\\(user\\)" \
    "$(pm run --rm --group-add 1000 $IMAGE id)"
}

case_userns() {
  if [ "$MODE" = rootless ]; then
    # keep-id: the user's own uid inside, mapped to itself.
    local uid
    uid=$(id -u "$TEST_USER")
    expect_eq "--userns=keep-id id -u" "$uid" "$(pm run --rm --userns=keep-id $IMAGE id -u)"
    expect_match "--userns=keep-id uid_map" "(^| )$uid +0 +1( |$)" \
      "$(pm run --rm --userns=keep-id $IMAGE cat /proc/self/uid_map | tr -s ' \n' '  ')"
  else
    # keep-id is rootless only; root gets a user namespace from an explicit map.
    expect_match "--uidmap" "^ *0 +200000 +65536 *$" \
      "$(pm run --rm --uidmap 0:200000:65536 --gidmap 0:200000:65536 $IMAGE cat /proc/self/uid_map)"
  fi
}

# With an id mapping the container's root is a host id of its own, which may enter
# neither the bundle (Podman 5 makes it 0700) nor a directory above a volume. urun opens them
# before the init takes that id.
case_userns_private_source() {
  local host map
  host=$DIR/host/$(name v)
  as_user mkdir -p "$host/data"
  as_user sh -c "echo private-ok > '$host/data/f'"
  chmod 0700 "$host"
  # Rootless: ids 1... of Podman's user namespace are the user's subordinate ids.
  if [ "$MODE" = root ]; then map=200000; else map=1; fi
  expect_eq "a volume below a 0700 directory" "private-ok 0" \
    "$(pm run --rm --uidmap 0:$map:65536 --gidmap 0:$map:65536 -v "$host/data:/data:ro" $IMAGE \
      sh -c 'echo $(cat /data/f) $(id -u)')"
  rm -rf "$host"
}

case_read_only() {
  expect_status "write to a --read-only root" 1 pm run --rm --read-only $IMAGE touch /x
  expect_match "read-only message" "Read-only file system" "$OUT"
  expect_eq "--read-only keeps /tmp writable" "ok" \
    "$(pm run --rm --read-only $IMAGE sh -c 'echo ok > /tmp/f && cat /tmp/f')"
}

case_bind_mount() {
  local host
  host=$DIR/host/$(name v)
  as_user mkdir -p "$host"
  as_user sh -c "echo from-host > '$host/in'"
  expect_eq "read a host file" "from-host" "$(pm run --rm -v "$host:/data" $IMAGE cat /data/in)"
  pm run --rm -v "$host:/data" $IMAGE sh -c 'echo from-container > /data/out' || die "write to bind mount"
  expect_eq "host reads the container's file" "from-container" "$(cat "$host/out")"
  expect_status "write to a :ro bind mount" 1 pm run --rm -v "$host:/data:ro" $IMAGE touch /data/x
  rm -rf "$host"
}

case_tmpfs() {
  expect_match "--tmpfs mount" "^tmpfs /scratch tmpfs rw,.*size=1024k" \
    "$(pm run --rm --tmpfs /scratch:rw,size=1m $IMAGE grep ' /scratch ' /proc/mounts)"
  expect_eq "--tmpfs writable" "ok" \
    "$(pm run --rm --tmpfs /scratch $IMAGE sh -c 'echo ok > /scratch/f && cat /scratch/f')"
}

case_network() {
  expect_eq "--network none interfaces" "lo" "$(pm run --rm --network none $IMAGE ls /sys/class/net)"
  [ -c /dev/net/tun ] || skip "--network none passed; no /dev/net/tun here, so slirp4netns cannot run"
  local out
  out=$(pm run --rm --network slirp4netns $IMAGE ip -o -4 addr show tap0) ||
    die "--network slirp4netns failed: $out"
  expect_match "slirp4netns address" "inet 10\.0\.2\.100/24" "$out"
  # slirp4netns answers on its gateway address: the network really works.
  expect_match "ping the slirp4netns gateway" "1 packets received" \
    "$(pm run --rm --network slirp4netns $IMAGE ping -c 1 -W 5 10.0.2.2 2>&1 || true)"
}

case_capabilities() {
  # CapEff with only CAP_NET_RAW (bit 13).
  expect_eq "--cap-drop all --cap-add net_raw" "0000000000002000" \
    "$(pm run --rm --cap-drop all --cap-add net_raw $IMAGE sh -c 'grep CapEff /proc/self/status | cut -f2')"
  expect_status "--cap-drop chown" 1 pm run --rm --cap-drop chown $IMAGE chown 1000 /tmp
  expect_match "--cap-drop chown message" "Operation not permitted" "$OUT"
  expect_eq "--cap-add sys_admin (mount)" "ok" \
    "$(pm run --rm --cap-add sys_admin $IMAGE sh -c 'mkdir /m && mount -t tmpfs t /m && echo ok')"
}

case_env_workdir() {
  expect_eq "--env and --workdir" "bar /home/user" \
    "$(pm run --rm --env FOO=bar --workdir /home/user $IMAGE sh -c 'echo $FOO $PWD')"
}

case_init() {
  # Podman bind-mounts catatonit as /run/podman-init.
  expect_match "--init pid 1" "^/run/podman-init -- sh" \
    "$(pm run --rm --init $IMAGE sh -c 'tr "\\0" " " < /proc/1/cmdline')"
  # catatonit forwards SIGTERM to the shell, which would ignore it as pid 1.
  local n
  n=$(name c)
  detached "$n" --init $IMAGE sleep 1000
  local start
  start=$(date +%s)
  pm stop --time 20 "$n" >/dev/null || die "stop of an --init container"
  [ $(($(date +%s) - start)) -lt 10 ] || die "--init did not forward SIGTERM"
}

case_top() {
  local n
  n=$(name c)
  detached "$n" $IMAGE sh -c 'sleep 1000 & wait'
  local out
  out=$(pm top "$n" pid args) || die "podman top failed: $out"
  expect_match "top lists the shell" "1 +sh -c sleep 1000" "$out"
  expect_match "top lists the sleep" "sleep 1000" "$(echo "$out" | tail -n +3)"
}

case_pods() {
  local pod a
  pod=$(name pod)
  a=$(name a)
  PODS+=("$pod")
  pm pod create --name "$pod" >/dev/null || die "pod create"
  detached "$a" --pod "$pod" $IMAGE sh -c "echo shared > /dev/shm/f; $SLEEPER"
  wait_for "the first container's file" pm exec "$a" test -s /dev/shm/f
  # Containers of a pod share the uts and ipc namespaces with its infra container.
  expect_eq "hostname in the pod" "$pod" "$(pm run --rm --pod "$pod" $IMAGE hostname)"
  expect_eq "shared ipc namespace" "shared" "$(pm run --rm --pod "$pod" $IMAGE cat /dev/shm/f)"
  expect_eq "pod status" "Running" "$(pm pod inspect --format '{{.State}}' "$pod")"
  pm pod stop --time 20 "$pod" >/dev/null || die "pod stop"
  expect_eq "pod status after stop" "Exited" "$(pm pod inspect --format '{{.State}}' "$pod")"
  pm pod rm "$pod" >/dev/null || die "pod rm"
  expect_eq "pod left after rm" "" "$(pm pod ps --quiet --filter "name=^$pod\$")"
}

# Podman passes --cgroup-manager disabled and --log-format=json only to runtimes its
# containers.conf lists (runtime_supports_nocgroup, runtime_supports_json).
case_cgroups_disabled() {
  expect_eq "--cgroups=disabled" "ok" "$(pm run --rm --cgroups=disabled $IMAGE echo ok)"
  local n
  n=$(name c)
  detached "$n" --cgroups=disabled $IMAGE sh -c "$SLEEPER"
  expect_eq "exec without cgroups" "ok" "$(pm exec "$n" echo ok)"
  pm stop --time 20 "$n" >/dev/null || die "stop without cgroups"
}

# ---- checkpoint and restore through CRIU -------------------------------------------

# A counter in a shell variable (memory), written to /tmp/count each tick; its output goes to
# conmon's log pipe.
COUNTER='i=0; while :; do i=$((i+1)); echo $i > /tmp/count; echo tick $i; sleep 0.1; done'

# count NAME: the counter's last value; counter_past NAME N: whether it is above N. The shell
# truncates /tmp/count before each write, so a read can find it empty: read again. A dump can
# catch the writer in that window, and then the file stays empty until the restored process
# goes on (seen once in CI: "counter '' after the restore").
count() {
  local v tries=0
  while [ $tries -lt 20 ]; do
    v=$(pm exec "$1" cat /tmp/count 2>/dev/null)
    case $v in '' | *[!0-9]*) ;; *) echo "$v"; return 0 ;; esac
    tries=$((tries + 1))
    sleep 0.1
  done
  echo 0
}
counter_past() { [ "$(count "$1")" -gt "$2" ]; }

# expect_continued WHAT NAME BEFORE: the restored counter goes on from where it was just before
# the checkpoint (BEFORE), where a restarted one would begin again at 1.
expect_continued() {
  local what=$1 n=$2 before=$3 v
  v=$(count "$n")
  [ "$v" -ge "$before" ] || die "$what: counter $v after the restore, $before before: restarted"
  [ "$v" -lt $((before + 100)) ] || die "$what: counter $v: not the checkpointed process ($before)"
  wait_for "$what: the counter going on past $v" counter_past "$n" "$v"
  expect_eq "$what: status" "running" "$(pm inspect --format '{{.State.Status}}' "$n")"
}

# Podman asks `urun checkpoint --help` and CRIU itself whether checkpointing works, then
# drives `urun checkpoint` and `urun restore` (through conmon); --export/--import carry the
# images in a tarball. Rootless Podman refuses on its own (CRIU needs root).
case_checkpoint() {
  local n at before file
  n=$(name c)
  detached "$n" $IMAGE sh -c "$COUNTER"
  if [ "$MODE" = rootless ]; then
    expect_status "rootless podman container checkpoint" 125 pm container checkpoint "$n"
    expect_eq "still running" "running" "$(pm inspect --format '{{.State.Status}}' "$n")"
    return
  fi
  criu check >/dev/null 2>&1 || skip "no working CRIU (scripts/install-deps --criu)"
  wait_for "the counter" counter_past "$n" 5

  before=$(count "$n")
  pm container checkpoint "$n" >/dev/null || die "podman container checkpoint failed"
  expect_eq "status after checkpoint" "exited" "$(pm inspect --format '{{.State.Status}}' "$n")"
  pm container restore "$n" >/dev/null || die "podman container restore failed"
  expect_continued "restore" "$n" "$before"
  at=$(count "$n")
  wait_for "log lines after the restore" logs_contain "$n" "tick $((at + 2))"

  file=$DIR/tmp/$n-checkpoint.tar.gz
  before=$(count "$n")
  pm container checkpoint --export "$file" "$n" >/dev/null || die "checkpoint --export failed"
  [ -s "$file" ] || die "no checkpoint tarball"
  pm rm -f "$n" >/dev/null || die "rm after export"
  pm container restore --import "$file" >/dev/null || die "restore --import failed"
  rm -f "$file"
  expect_continued "import" "$n" "$before"

  # With a terminal: conmon holds the pty's master; the restore sends it the new one.
  n=$(name t)
  detached "$n" -t $IMAGE sh -c "$COUNTER"
  wait_for "the terminal's counter" counter_past "$n" 5
  before=$(count "$n")
  pm container checkpoint "$n" >/dev/null || die "checkpoint of a terminal container failed"
  pm container restore "$n" >/dev/null || die "restore of a terminal container failed"
  expect_continued "terminal" "$n" "$before"
  at=$(count "$n")
  wait_for "terminal output after the restore" logs_contain "$n" "tick $((at + 2))"
}

# ---- resources ------------------------------------------------------------------

# cgroup_file NAME CONTROLLER FILE: a v1 file of the container's cgroup, read on the host.
cgroup_file() {
  local pid path
  pid=$(pm inspect --format '{{.State.Pid}}' "$1")
  path=$(awk -F: -v c="$2" '$2 == c { print $3 }' "/proc/$pid/cgroup")
  cat "/sys/fs/cgroup/$2$path/$3"
}

case_default_resources() {
  if [ "$MODE" = rootless ]; then
    # No cgroup is delegated to the user here: Podman asks for none and urun runs without.
    local n
    n=$(name c)
    detached "$n" $IMAGE sh -c "$SLEEPER"
    expect_eq "rootless container cgroup" "$(awk -F: '$2 == "pids"' /proc/self/cgroup | cut -d: -f3)" \
      "$(awk -F: '$2 == "pids"' "/proc/$(pm inspect --format '{{.State.Pid}}' "$n")/cgroup" | cut -d: -f3)"
    return
  fi
  local n
  n=$(name c)
  detached "$n" $IMAGE sh -c "$SLEEPER"
  expect_eq "default pids limit" "2048" "$(cgroup_file "$n" pids pids.max)"
  expect_match "default device rules" "c 1:3 rwm" "$(cgroup_file "$n" devices devices.list)"
  # The device cgroup refuses a node the container makes itself.
  expect_status "open a disk node made inside" 1 pm exec "$n" sh -c 'mknod /tmp/sda b 8 0 && head -c1 /tmp/sda'
  expect_match "device cgroup message" "Operation not permitted" "$OUT"
  expect_eq "/dev/null works" "" "$(pm exec "$n" sh -c 'echo x > /dev/null')"
  expect_eq "nofile from containers.conf" "20000" "$(pm exec "$n" sh -c 'ulimit -n')"
}

case_limits() {
  local n
  n=$(name c)
  if [ "$MODE" = rootless ]; then
    # Podman drops limits it cannot apply without a delegated cgroup (cgroup v1) and says so.
    local out
    out=$(pm run --rm --memory 64m --pids-limit 50 --cpus 0.5 $IMAGE echo ran 2>&1) ||
      die "run with limits: $out"
    expect_match "rootless limits run" "ran" "$out"
    expect_match "rootless limits warning" "[Rr]esource limits are not supported" "$out"
    return
  fi
  detached "$n" --memory 64m --pids-limit 50 --cpus 0.5 $IMAGE sh -c "$SLEEPER"
  expect_eq "--memory" "67108864" "$(cgroup_file "$n" memory memory.limit_in_bytes)"
  expect_eq "--pids-limit" "50" "$(cgroup_file "$n" pids pids.max)"
  expect_eq "--cpus quota" "50000" "$(cgroup_file "$n" cpu cpu.cfs_quota_us)"
  expect_eq "--cpus period" "100000" "$(cgroup_file "$n" cpu cpu.cfs_period_us)"
}

case_pause_unpause() {
  local n
  n=$(name c)
  detached "$n" $IMAGE sh -c "$SLEEPER"
  if [ "$MODE" = rootless ]; then
    expect_status "rootless pause" 125 pm pause "$n"
    expect_match "rootless pause message" "[Cc]group" "$OUT"
    return
  fi
  pm pause "$n" >/dev/null || die "podman pause"
  expect_eq "status after pause" "paused" "$(pm inspect --format '{{.State.Status}}' "$n")"
  expect_eq "freezer state" "FROZEN" "$(cgroup_file "$n" freezer freezer.state)"
  pm unpause "$n" >/dev/null || die "podman unpause"
  expect_eq "status after unpause" "running" "$(pm inspect --format '{{.State.Status}}' "$n")"
  expect_eq "exec after unpause" "ok" "$(pm exec "$n" echo ok)"
}

case_update() {
  local n
  n=$(name c)
  detached "$n" --memory 64m $IMAGE sh -c "$SLEEPER"
  if [ "$MODE" = rootless ]; then
    # Podman hands the update to urun, which refuses: the container has no cgroup.
    expect_status "rootless update" 125 pm update --memory 128m "$n"
    expect_match "rootless update message" "has no cgroup" "$OUT"
    return
  fi
  # Podman 4.3's update has no --pids-limit.
  pm update --memory 128m --cpus 0.25 "$n" >/dev/null || die "podman update"
  expect_eq "updated memory" "134217728" "$(cgroup_file "$n" memory memory.limit_in_bytes)"
  expect_eq "updated cpu quota" "25000" "$(cgroup_file "$n" cpu cpu.cfs_quota_us)"
}
