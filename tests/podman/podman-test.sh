#!/usr/bin/env bash
# Runs Debian's Podman with urun as its runtime, as root or as the unprivileged test user:
#   podman-test.sh MODE setup|cleanup|CASE
# MODE is root or rootless. CTest runs `setup` once per mode (a fixture), then every case, then
# `cleanup` (also after failures). Environment: URUN_PODMAN_DIR (the world's parent directory),
# URUN_BINARY (the urun to test), URUN_SOURCE_DIR. Exit 77 means skipped (reason on stderr).
set -euo pipefail
MODE=${1:?usage: podman-test.sh root|rootless setup|cleanup|CASE}
CASE=${2:?usage: podman-test.sh root|rootless setup|cleanup|CASE}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib.sh"
source "$here/setup.sh"
source "$here/cases.sh"

case $CASE in
  setup) setup_world ;;
  cleanup) cleanup_world ;;
  *)
    [ -e "$DIR/skip" ] && skip "$(cat "$DIR/skip")"
    [ -x "$DIR/urun" ] || die "the $MODE world is not set up (run the setup test first)"
    declare -F "case_$CASE" >/dev/null || die "no such case: $CASE"
    "case_$CASE"
    ;;
esac
