# Shared set-up for the Podman suite (sourced by podman-test.sh).
#
# Each mode (root, rootless) has one world-readable directory, $URUN_PODMAN_DIR/<mode>, holding
# everything Podman needs, so the tests never touch the machine's own Podman state and the
# unprivileged user can reach all of it (it cannot enter /root or the work tree):
#   urun               a copy of the built runtime (podman --runtime points here)
#   containers.conf    CONTAINERS_CONF: only this file is read
#   storage/ run/ tmp/ Podman's --root, --runroot and --tmpdir (vfs driver: no overlay mounts)
#   home/              HOME and XDG_CONFIG_HOME of the rootless user
#   skip               when present, its text is why every case of the mode is skipped
set -euo pipefail

MODE=${MODE:?}
TOP=${URUN_PODMAN_DIR:?}
DIR=$TOP/$MODE
TEST_USER=${URUN_TEST_USER:-urun-test}
SKIP=77

say() { echo "podman-test[$MODE]: $*" >&2; }
die() { say "FAIL: $*"; exit 1; }
skip() { say "SKIP: $*"; exit "$SKIP"; }

# podman ARGS...: Debian's Podman on the isolated storage with urun as the runtime, as root or as
# the test user (its own XDG_RUNTIME_DIR, a clean environment). Root's PATH has /usr/local for
# the criu that scripts/install-deps --criu puts there (Podman runs it to check it).
pm() {
  local -a global=(--runtime "$DIR/urun" --root "$DIR/storage" --runroot "$DIR/run"
    --tmpdir "$DIR/tmp" --storage-driver vfs --cgroup-manager cgroupfs --events-backend file)
  if [ "$MODE" = root ]; then
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$DIR/home" \
      CONTAINERS_CONF="$DIR/containers.conf" \
      podman "${global[@]}" "$@"
  else
    local uid
    uid=$(id -u "$TEST_USER")
    # setpriv keeps the cwd: use one the user can reach.
    (cd "$DIR" && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$DIR/home" \
      XDG_CONFIG_HOME="$DIR/home/.config" XDG_RUNTIME_DIR="/run/user/$uid" \
      CONTAINERS_CONF="$DIR/containers.conf" \
      setpriv --reuid="$uid" --regid="$(id -g "$TEST_USER")" --init-groups \
      podman "${global[@]}" "$@")
  fi
}

# as_user CMD...: run a host command as the user Podman runs as (to read what a container wrote).
as_user() {
  if [ "$MODE" = root ]; then "$@"; else
    setpriv --reuid="$(id -u "$TEST_USER")" --regid="$(id -g "$TEST_USER")" --init-groups "$@"
  fi
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
  [ "$2" = "$3" ] || die "$1: expected [$2], got [$3]"
}
# expect_match WHAT REGEX ACTUAL
expect_match() {
  [[ $3 =~ $2 ]] || die "$1: expected to match /$2/, got [$3]"
}
# expect_status WHAT EXPECTED CMD...: runs CMD, checks its exit status, leaves its output in $OUT.
expect_status() {
  local what=$1 want=$2 got=0
  shift 2
  OUT=$("$@" 2>&1) || got=$?
  [ "$got" = "$want" ] || die "$what: exit status $got, expected $want; output: $OUT"
}

# A unique container name per case so cases of one mode can run in parallel.
name() { echo "urun-${CASE:-x}-$1"; }
