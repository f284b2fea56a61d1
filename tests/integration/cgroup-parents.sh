#!/usr/bin/env bash
# Cgroups that outlive the containers in them: the runtime's default parent, /urun in every
# hierarchy (as Podman's libpod_parent, made by the first container under it and never removed),
# and /system.slice, which the fake systemd of the SystemdCgroup tests makes on a host without
# systemd (each test removes the one it made, but one made while another test's scope is in it
# stays). CTest's set-up of the integration suite records which exist (record FILE), its clean-up
# removes the empty ones the suite made (remove FILE), so that a run leaves the host's cgroup
# hierarchies as it found them.
set -euo pipefail
action=${1:?usage: cgroup-parents.sh record|remove FILE} file=${2:?usage: cgroup-parents.sh record|remove FILE}
parents() {
  find /sys/fs/cgroup/*/urun /sys/fs/cgroup/urun /sys/fs/cgroup/*/system.slice \
    /sys/fs/cgroup/system.slice -maxdepth 0 -type d 2>/dev/null || true
}
case $action in
  record) parents > "$file" ;;
  remove)
    [ -f "$file" ] || exit 0
    for d in $(parents); do
      grep -qxF "$d" "$file" || rmdir "$d" 2>/dev/null || true
    done
    rm -f "$file"
    ;;
  *) echo "cgroup-parents.sh: unknown action $action" >&2; exit 2 ;;
esac
