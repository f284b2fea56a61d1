#!/usr/bin/env bash
# What a test suite leaves outside its own directories because it outlives its containers by
# design — the cgroup parents that Podman (libpod_parent), ctr (its namespace) and urun (/urun)
# make and never remove, the fake systemd's /system.slice, the compiled seccomp filters under
# urun's default state root — is removed after the suite when the suite made it, so that a run
# leaves the host as it found it:
#   leftovers.sh record FILE PATTERN...   before the suite: list what exists (each PATTERN is a
#                                         glob, expanded here, with everything below it)
#   leftovers.sh remove FILE PATTERN...   after it: remove what the list lacks, deepest first:
#                                         files, and directories once empty (a cgroup's own files
#                                         cannot be removed and go with its directory)
set -euo pipefail
shopt -s nullglob
usage="usage: leftovers.sh record|remove FILE PATTERN..."
action=${1:?$usage} file=${2:?$usage}
shift 2

entries() {
  local pattern path
  for pattern in "$@"; do
    # shellcheck disable=SC2086 # the pattern is a glob, expanded here
    for path in $pattern; do find "$path" -depth 2>/dev/null || true; done
  done | sort
}

case $action in
  record) entries "$@" >"$file" ;;
  remove)
    [ -f "$file" ] || exit 0
    comm -13 "$file" <(entries "$@") | sort -r | while read -r path; do
      if [ -d "$path" ]; then rmdir "$path" 2>/dev/null || true; else rm -f "$path" 2>/dev/null || true; fi
    done
    rm -f "$file"
    ;;
  *) echo "leftovers.sh: $usage" >&2; exit 2 ;;
esac
