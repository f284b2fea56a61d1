# Set-up and clean-up of one mode's Podman world (sourced by podman-test.sh after lib.sh).

REPO=${URUN_SOURCE_DIR:?}
URUN=${URUN_BINARY:?}

setup_world() {
  local tool
  for tool in podman conmon catatonit slirp4netns newuidmap; do
    command -v "$tool" >/dev/null ||
      { mkdir -p "$DIR"; echo "$tool is not installed (scripts/install-deps --podman)" > "$DIR/skip"; skip "$(cat "$DIR/skip")"; }
  done
  [ "$(id -u)" -eq 0 ] || { echo "the suite needs root"; exit 1; }
  cleanup_world
  install -d -m 0755 "$TOP" "$DIR"
  install -m 0755 "$URUN" "$DIR/urun"
  # Podman's cgroups on the host (root), its lock file, and the files under urun's default state
  # root, where Podman runs it (the compiled seccomp filters of its default profile stay in its
  # .cache): what is there now is not ours to remove.
  leftovers_of_mode
  "$REPO/tests/leftovers.sh" record "$DIR/leftovers-before" "${LEFTOVERS[@]}"

  local ulimits=""
  # Root lacks CAP_SYS_RESOURCE on these machines: Podman's default nofile (1048576) cannot be
  # granted by any runtime.
  [ "$MODE" = root ] && ulimits='default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]'
  # The runtime_supports_* lists come from the shipped contrib file: this is what checks that it
  # declares urun (else Podman passes no --log-format=json and refuses --cgroups=disabled).
  cat > "$DIR/containers.conf" <<CONF
[containers]
$ulimits
# Networking is chosen per test; the default avoids a slirp4netns or CNI set-up per container.
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
$(grep -E '^runtime_supports_(json|nocgroup) *=' "$REPO/contrib/podman/containers.conf")

[engine.runtimes]
urun = ["$DIR/urun"]
CONF
  grep -q '"urun"' <(grep runtime_supports_json "$DIR/containers.conf") ||
    die "contrib/podman/containers.conf does not declare urun in runtime_supports_json"

  mkdir -p "$DIR"/{storage,run,tmp,home/.config,rootfs,host}
  "$REPO/scripts/make-rootfs" "$DIR/rootfs" >/dev/null
  tar -C "$DIR/rootfs" -cf "$DIR/busybox.tar" .
  if [ "$MODE" = rootless ]; then
    "$REPO/scripts/install-deps" --test-user >/dev/null
    # slirp4netns opens /dev/net/tun as the user; a normal distribution has it 0666.
    if [ -c /dev/net/tun ] && [ ! -e "$TOP/tun-mode" ]; then
      stat -c %a /dev/net/tun > "$TOP/tun-mode"
      chmod 0666 /dev/net/tun
    fi
    chown -R "$TEST_USER:" "$DIR"/{storage,run,tmp,home,host}
  fi
  chmod 0644 "$DIR/busybox.tar" "$DIR/containers.conf"
  pm import --quiet "$DIR/busybox.tar" localhost/busybox:latest >/dev/null
  rm -rf "$DIR/rootfs" "$DIR/busybox.tar"
  pm run --rm localhost/busybox true || die "podman run of the imported image failed"
}

# What outlives Podman's containers on the host: as root, libpod_parent in every hierarchy, which
# Podman makes and never removes (and the pod cgroups it leaves in the unified and name=systemd
# trees of this hybrid host); in either mode Podman's lock file in /dev/shm, and what urun keeps
# under its default state root, where Podman runs it (/run/urun, or the user's
# $XDG_RUNTIME_DIR/urun: the compiled seccomp filters of Podman's profile). tests/leftovers.sh
# removes what the suite added.
leftovers_of_mode() {
  if [ "$MODE" = root ]; then
    LEFTOVERS=("/sys/fs/cgroup/*/libpod_parent" "/run/urun" "/dev/shm/libpod_lock")
  else
    local uid
    uid=$(id -u "$TEST_USER" 2>/dev/null) || uid=none
    LEFTOVERS=("/run/user/$uid/urun" "/dev/shm/libpod_rootless_lock_$uid")
  fi
}

cleanup_world() {
  [ -d "$DIR" ] || return 0
  if [ -x "$DIR/urun" ] && command -v podman >/dev/null; then
    pm pod rm --all --force --time 0 >/dev/null 2>&1 || true
    pm rm --all --force --time 0 >/dev/null 2>&1 || true
  fi
  # The rootless user namespace lives as long as Podman's pause process.
  if [ -s "$DIR/tmp/pause.pid" ]; then
    kill -KILL "$(cat "$DIR/tmp/pause.pid")" 2>/dev/null || true
  fi
  leftovers_of_mode
  "$REPO/tests/leftovers.sh" remove "$DIR/leftovers-before" "${LEFTOVERS[@]}"
  # Whatever a failed run left mounted under the world (shm tmpfs of root containers), deepest first.
  local m
  for m in $(awk -v d="$DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$DIR"
  if [ "$MODE" = rootless ]; then
    # Podman's empty directories in the user's runtime directory.
    local uid
    uid=$(id -u "$TEST_USER" 2>/dev/null) &&
      rmdir "/run/user/$uid"/{containers,libpod,netns} 2>/dev/null || true
  fi
  if [ "$MODE" = rootless ] && [ -s "$TOP/tun-mode" ]; then
    chmod "$(cat "$TOP/tun-mode")" /dev/net/tun
    rm -f "$TOP/tun-mode"
  fi
  rmdir "$TOP" 2>/dev/null || true
}
