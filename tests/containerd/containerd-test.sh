#!/usr/bin/env bash
# Runs a private containerd (Debian's 1.6) whose runc shim drives the urun built here:
#   containerd-test.sh setup|cleanup|CASE
# setup starts containerd with its own config, socket, root and state under $URUN_CONTAINERD_DIR
# and imports a busybox image built here as an OCI layout (there is no registry); cleanup stops it
# and removes everything. Root only: containerd's rootless mode needs RootlessKit and a per-user
# daemon, which is outside what this suite checks (urun's contract with the runc shim).
# Environment: URUN_CONTAINERD_DIR, URUN_BINARY, URUN_SOURCE_DIR. Exit 77 means skipped.
set -euo pipefail
CASE=${1:?usage: containerd-test.sh setup|cleanup|CASE}
DIR=${URUN_CONTAINERD_DIR:?}
URUN=${URUN_BINARY:?}
REPO=${URUN_SOURCE_DIR:?}
NS=urun-test
IMAGE=localhost/busybox:latest
SKIP=77

say() { echo "containerd-test: $*" >&2; }
die() { say "FAIL: $*"; exit 1; }
skip() { say "SKIP: $*"; exit "$SKIP"; }
expect_eq() { [ "$2" = "$3" ] || die "$1: expected [$2], got [$3]"; }
expect_match() { [[ $3 =~ $2 ]] || die "$1: expected to match /$2/, got [$3]"; }

# ctr on the private daemon, in a namespace of its own.
c() { ctr --address "$DIR/containerd.sock" --namespace "$NS" "$@"; }
# ctr run with urun as the runc binary, its state under the test directory.
RUN=(run --snapshotter native --runc-binary "$DIR/urun" --runc-root "$DIR/urun-state")

# sha256 of a file, and its size.
digest() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# An OCI image layout tarball holding the busybox rootfs of scripts/make-rootfs in one layer.
make_image() {
  local work=$DIR/image arch layer config manifest
  mkdir -p "$work/blobs/sha256" "$work/rootfs"
  "$REPO/scripts/make-rootfs" "$work/rootfs" >/dev/null
  tar -C "$work/rootfs" -cf "$work/layer.tar" .
  layer=$(digest "$work/layer.tar")
  mv "$work/layer.tar" "$work/blobs/sha256/$layer"
  arch=$(dpkg --print-architecture)
  printf '{"architecture":"%s","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$arch" "$layer" > "$work/config.json"
  config=$(digest "$work/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$config" "$(size "$work/config.json")" "$layer" "$(size "$work/blobs/sha256/$layer")" > "$work/manifest.json"
  mv "$work/config.json" "$work/blobs/sha256/$config"
  manifest=$(digest "$work/manifest.json")
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"latest"}}]}' \
    "$manifest" "$(size "$work/manifest.json")" "$IMAGE" > "$work/index.json"
  mv "$work/manifest.json" "$work/blobs/sha256/$manifest"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$work/oci-layout"
  tar -C "$work" -cf "$DIR/busybox-oci.tar" oci-layout index.json blobs
  rm -rf "$work"
}

setup() {
  command -v containerd >/dev/null && command -v ctr >/dev/null &&
    command -v containerd-shim-runc-v2 >/dev/null ||
    { mkdir -p "$DIR"; echo "containerd is not installed (scripts/install-deps --podman)" > "$DIR/skip"; skip "$(cat "$DIR/skip")"; }
  [ "$(id -u)" -eq 0 ] || die "the containerd suite needs root"
  cleanup
  mkdir -p "$DIR"
  # containerd 1.6 keeps shim sockets and fifos under /run/containerd whatever its config says:
  # remove those directories afterwards if this test made them.
  [ -e /run/containerd ] || touch "$DIR/made-run-containerd"
  # ctr puts a container's cgroup in /<namespace>/<id> and leaves /<namespace> behind: remove
  # it in every hierarchy afterwards where this test made it.
  "$REPO/tests/leftovers.sh" record "$DIR/leftovers-before" "/sys/fs/cgroup/*/$NS" "/sys/fs/cgroup/$NS"
  install -m 0755 "$URUN" "$DIR/urun"
  cat > "$DIR/config.toml" <<CONF
version = 2
root = "$DIR/root"
state = "$DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$DIR/containerd.sock"
[ttrpc]
  address = "$DIR/containerd.sock.ttrpc"
[debug]
  address = "$DIR/debug.sock"
CONF
  containerd --config "$DIR/config.toml" > "$DIR/containerd.log" 2>&1 &
  echo $! > "$DIR/containerd.pid"
  for _ in $(seq 100); do
    c version >/dev/null 2>&1 && break
    kill -0 "$(cat "$DIR/containerd.pid")" 2>/dev/null || die "containerd exited: $(tail -5 "$DIR/containerd.log")"
    sleep 0.1
  done
  c version >/dev/null || die "containerd did not answer: $(tail -5 "$DIR/containerd.log")"
  make_image
  c image import "$DIR/busybox-oci.tar" >/dev/null || die "ctr image import failed"
  expect_match "imported image" "$IMAGE" "$(c image ls --quiet)"
}

cleanup() {
  [ -d "$DIR" ] || return 0
  if [ -s "$DIR/containerd.pid" ] && kill -0 "$(cat "$DIR/containerd.pid")" 2>/dev/null; then
    local t
    for t in $(c task ls --quiet 2>/dev/null); do c task kill --signal SIGKILL "$t" >/dev/null 2>&1 || true; done
    for t in $(c task ls --quiet 2>/dev/null); do c task delete --force "$t" >/dev/null 2>&1 || true; done
    for t in $(c container ls --quiet 2>/dev/null); do c container delete "$t" >/dev/null 2>&1 || true; done
    kill "$(cat "$DIR/containerd.pid")" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$(cat "$DIR/containerd.pid")" 2>/dev/null || break; sleep 0.1; done
  fi
  # Shims of tasks a failed run left behind, found by their -address argument.
  pkill -KILL -f -- "-address $DIR/containerd.sock" 2>/dev/null || true
  local m
  for m in $(awk -v d="$DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  if [ -e "$DIR/made-run-containerd" ]; then
    rmdir /run/containerd/{s,fifo,runc} /run/containerd 2>/dev/null || true
  fi
  "$REPO/tests/leftovers.sh" remove "$DIR/leftovers-before" "/sys/fs/cgroup/*/$NS" "/sys/fs/cgroup/$NS"
  rm -rf "$DIR"
}

# The container's cgroup file on the host (v1 hierarchies here; the v2 path otherwise).
cgroup_file() {
  local pid=$1 ctrl=$2 file=$3 path
  path=$(awk -F: -v c="$ctrl" '$2 == c { print $3 }' "/proc/$pid/cgroup")
  cat "/sys/fs/cgroup/$ctrl$path/$file"
}

# ---- cases ---------------------------------------------------------------------------------

case_run_rm() {
  expect_eq "ctr run --rm output" "hello from urun" "$(c "${RUN[@]}" --rm $IMAGE urun-rm echo hello from urun)"
  local status=0
  c "${RUN[@]}" --rm $IMAGE urun-rm-exit sh -c 'exit 3' || status=$?
  expect_eq "ctr run exit status" "3" "$status"
  expect_eq "containers left" "" "$(c container ls --quiet | grep '^urun-rm' || true)"
}

case_lifecycle() {
  local id=urun-life
  # shellcheck disable=SC2064 # the id is expanded now, on purpose
  trap "{ c task delete --force $id; c container delete $id; } >/dev/null 2>&1 || true" EXIT
  c "${RUN[@]}" --detach $IMAGE $id sh -c 'trap "exit 0" TERM; sleep 1000 & while :; do sleep 0.1; done' ||
    die "ctr run --detach failed"
  expect_match "task status" "$id +[0-9]+ +RUNNING" "$(c task ls)"
  local pid
  pid=$(c task ls | awk -v id=$id '$1 == id { print $2 }')
  # exec: a process in the container's namespaces (the shim calls urun exec --process).
  expect_eq "task exec output" "in exec" "$(c task exec --exec-id e1 $id echo in exec)"
  expect_eq "task exec sees pid 1" "sh" "$(c task exec --exec-id e2 $id cat /proc/1/comm)"
  local status=0
  c task exec --exec-id e3 $id sh -c 'exit 5' || status=$?
  expect_eq "task exec exit status" "5" "$status"
  # ps: the shim calls urun ps --format json and lists the host pids.
  local ps
  ps=$(c task ps $id) || die "ctr task ps failed: $ps"
  echo "$ps" | awk '{ print $1 }' | grep -qx "$pid" || die "task ps does not list the init $pid: $ps"
  [ "$(echo "$ps" | tail -n +2 | wc -l)" -ge 2 ] || die "task ps lists too few processes: $ps"
  # update: ctr 1.6 has no command for the shim's Update (CRI uses it), so make its call by hand:
  # `--root R update --resources=- ID` with the LinuxResources JSON on stdin, as go-runc does.
  echo '{"memory":{"limit":67108864},"pids":{"limit":99}}' |
    "$DIR/urun" --root "$DIR/urun-state/$NS" update --resources=- $id || die "urun update --resources=- failed"
  expect_eq "memory limit after update" "67108864" "$(cgroup_file "$pid" memory memory.limit_in_bytes)"
  expect_eq "pids limit after update" "99" "$(cgroup_file "$pid" pids pids.max)"
  echo '{"memory":{"limit":33554432}}' |
    "$DIR/urun" --root "$DIR/urun-state/$NS" update --resources - $id || die "urun update --resources - failed"
  expect_eq "memory limit after the second update" "33554432" "$(cgroup_file "$pid" memory memory.limit_in_bytes)"
  # pause and resume.
  c task pause $id || die "ctr task pause failed"
  expect_match "task paused" "$id +$pid +PAUSED" "$(c task ls)"
  c task resume $id || die "ctr task resume failed"
  expect_match "task resumed" "$id +$pid +RUNNING" "$(c task ls)"
  # kill with SIGTERM, then delete without --force after the exit.
  c task kill --signal SIGTERM $id || die "ctr task kill failed"
  for _ in $(seq 50); do c task ls | grep -q "$id .*STOPPED" && break; sleep 0.1; done
  expect_match "task stopped" "$id +$pid +STOPPED" "$(c task ls)"
  c task delete $id >/dev/null || die "ctr task delete failed"
  c container delete $id || die "ctr container delete failed"
  expect_eq "urun state left" "" "$(ls "$DIR/urun-state/$NS" 2>/dev/null || true)"
  [ ! -e "/proc/$pid" ] || die "the init $pid still exists"
}

case $CASE in
  setup) setup ;;
  cleanup) cleanup ;;
  *)
    [ -e "$DIR/skip" ] && skip "$(cat "$DIR/skip")"
    [ -S "$DIR/containerd.sock" ] || die "containerd is not running (run the setup test first)"
    declare -F "case_$CASE" >/dev/null || die "no such case: $CASE"
    "case_$CASE"
    ;;
esac
