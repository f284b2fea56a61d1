#!/bin/bash
# Regenerates cmake/urun-text-order.txt: the functions `urun run` executes (then those of
# create, start, delete and exec, with and without a seccomp profile), which the build
# (lld --symbol-ordering-file, CMakeLists.txt) places together so that the kernel's fault-around
# maps little code that a run does not execute (peak RSS). Run as root after a build, then
# rebuild; needs valgrind, perf and the unprivileged user (scripts/install-deps --test-user).
#
# Two sources, merged: callgrind on a rootless run (every function the runtime process
# executes; a root-owned copy of the binary is not re-executed, which valgrind cannot follow,
# and rlimits are dropped, which valgrind keeps for itself), and perf samples of root runs,
# creates, starts and deletes (the root-only paths: cgroups, the re-exec). Names are mangled,
# as lld wants them: first every function of a run, then those only the other commands run,
# each group in address order so that the diff of a regeneration is small.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
urun=${1:-$repo/build/urun}
user=${URUN_TEST_USER:-urun-test}
out=$repo/cmake/urun-text-order.txt
# Runs per mode for the perf samples: short functions of the root-only paths are sampled only
# with enough of them (150 missed some, costing 200 KiB of peak RSS; 400 did not).
runs=${TEXT_ORDER_RUNS:-400}
[ "$(id -u)" -eq 0 ] || { echo "text-order.sh: run as root" >&2; exit 1; }
for tool in valgrind perf jq nm; do
  command -v "$tool" >/dev/null || { echo "text-order.sh: $tool missing" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/urun-text-order.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"
as_user=(setpriv "--reuid=$user" "--regid=$user" --init-groups env "XDG_RUNTIME_DIR=$tmp/xdg")

"$repo/scripts/make-rootfs" "$tmp/rootfs" >/dev/null
install -m 0755 "$urun" "$tmp/urun"
for mode in root rootless; do
  mkdir -p "$tmp/$mode" "$tmp/state-$mode"
  spec=(spec)
  [ "$mode" = rootless ] && spec+=(--rootless)
  (cd "$tmp/$mode" && "$tmp/urun" "${spec[@]}")
  # The benchmark's config (bench/lib.sh): `spec`'s, without urun's rootless network.
  jq --arg root "$tmp/rootfs" '.process.terminal = false | .root.path = $root
      | .process.args = ["/bin/true"]
      | .annotations = {} | .linux.namespaces |= map(select(.type != "network"))' \
    "$tmp/$mode/config.json" >"$tmp/$mode/c" && mv "$tmp/$mode/c" "$tmp/$mode/config.json"
done
# For `exec` (after a run's functions, with the other commands'): a long-running container,
# without and with Podman's default seccomp profile (its program comes from urun's cache).
for mode in root rootless; do
  for what in sleep seccomp; do
    mkdir -p "$tmp/$what-$mode"
    jq '.process.args = ["sleep", "1000000"]' "$tmp/$mode/config.json" >"$tmp/$what-$mode/config.json"
  done
  if [ -f /usr/share/containers/seccomp.json ]; then
    jq --arg arch "$(uname -m)" --slurpfile profile /usr/share/containers/seccomp.json \
      -f "$repo/bench/podman-seccomp.jq" "$tmp/sleep-$mode/config.json" \
      >"$tmp/seccomp-$mode/config.json"
  fi
done
# valgrind keeps its own fds under the soft RLIMIT_NOFILE, so that run sets none.
mkdir -p "$tmp/valgrind"
jq '.process.rlimits = []' "$tmp/rootless/config.json" >"$tmp/valgrind/config.json"
mkdir -p "$tmp/xdg" "$tmp/cg"
chown "$user:" "$tmp/xdg" "$tmp/rootless" "$tmp/state-rootless" "$tmp/cg" "$tmp/valgrind" \
  "$tmp/sleep-rootless" "$tmp/seccomp-rootless"
chmod 0700 "$tmp/xdg"

# 1. callgrind, rootless: the runtime process only (the init's profile cannot leave its root).
(cd "$tmp/valgrind" && "${as_user[@]}" valgrind -q --tool=callgrind --demangle=no \
  --callgrind-out-file="$tmp/cg/out.%p" "$tmp/urun" --root "$tmp/state-rootless" run order \
  </dev/null >/dev/null 2>"$tmp/valgrind.err") ||
  { echo "text-order.sh: callgrind run failed: $(tail -3 "$tmp/valgrind.err")" >&2; exit 1; }
cat "$tmp"/cg/out.* | sed -nE 's/^c?fn=\([0-9]+\) (.*)/\1/p' >"$tmp/names"

# 2. perf samples, root: run, then create + start + delete, recorded apart: the functions of a
# run go first in the file, so that a run's pages hold none of the other commands' code.
# shellcheck disable=SC2016 # expanded by the inner shell
# Rootless runs too: the callgrind run saw the runtime only, not its init. Many short runs,
# so that short functions are sampled as well.
(perf record -q -F 40000 -o "$tmp/perf-run.data" -- sh -c '
  for i in $(seq "$2"); do
    (cd "$3/root" && "$0" --root "$1" run r$i </dev/null >/dev/null)
    (cd "$3/rootless" && $4 "$0" --root "$3/state-rootless" run r$i </dev/null >/dev/null)
  done' "$tmp/urun" "$tmp/state-root" "$runs" "$tmp" "${as_user[*]}" >/dev/null 2>&1)
# shellcheck disable=SC2016 # expanded by the inner shell
(cd "$tmp/root" && perf record -q -F 40000 -o "$tmp/perf-other.data" -- sh -c '
  for w in sleep seccomp; do (cd "$3/$w-root" && "$0" --root "$1" run -d $w </dev/null >/dev/null); done
  for i in $(seq "$2"); do
    "$0" --root "$1" create c$i </dev/null >/dev/null 2>&1
    "$0" --root "$1" start c$i && "$0" --root "$1" delete -f c$i
    "$0" --root "$1" exec sleep /bin/true && "$0" --root "$1" exec seccomp /bin/true
  done
  for w in sleep seccomp; do "$0" --root "$1" delete -f $w; done' \
  "$tmp/urun" "$tmp/state-root" "$runs" "$tmp" >/dev/null 2>&1)
# shellcheck disable=SC2016 # expanded by the inner shell
(perf record -q -F 40000 -o "$tmp/perf-other-rootless.data" -- "${as_user[@]}" sh -c '
  for w in sleep seccomp; do (cd "$3/$w-rootless" && "$0" --root "$1" run -d $w </dev/null >/dev/null); done
  for i in $(seq "$2"); do
    "$0" --root "$1" exec sleep /bin/true && "$0" --root "$1" exec seccomp /bin/true
  done
  for w in sleep seccomp; do "$0" --root "$1" delete -f $w; done' \
  "$tmp/urun" "$tmp/state-rootless" "$runs" "$tmp" >/dev/null 2>&1)
# The root runs execute a read-only mount of the binary, which perf cannot open: it reports
# file offsets there (converted below); the first image is resolved by name.
for what in run other other-rootless; do
  perf report -i "$tmp/perf-$what.data" --no-demangle --stdio --sort dso,sym -g none 2>/dev/null |
    awk '$2 == "urun" || $2 == "/" {print $NF}' >"$tmp/samples-$what"
done
cat "$tmp/samples-other-rootless" >>"$tmp/samples-other"
readelf -lW "$urun" | awk '$1 == "LOAD" && / R E / {print $2, $3, $5}' >"$tmp/text-segment"
nm --defined-only -S "$urun" | awk '$3 ~ /^[tTwW]$/ {print $1, $2, $4}' >"$tmp/symbols"
python3 - "$tmp/symbols" "$tmp/names" "$tmp/samples-run" "$tmp/samples-other" "$out" \
  "$tmp/text-segment" <<'EOF'
import bisect, sys
symbols = []
for line in open(sys.argv[1]):
    addr, size, name = line.split()
    symbols.append((int(addr, 16), int(size, 16), name))
symbols.sort()
starts = [s[0] for s in symbols]
known = {s[2]: s[0] for s in symbols}
offset, vaddr, size = (int(x, 16) for x in open(sys.argv[6]).read().split()[:3])

def sampled(path):
    found = set()
    for line in open(path):
        sample = line.strip()
        if not sample.startswith("0x"):
            found.add(sample)
            continue
        file_offset = int(sample, 16)
        if not offset <= file_offset < offset + size:
            continue
        addr = file_offset - offset + vaddr
        i = bisect.bisect_right(starts, addr) - 1
        if i >= 0 and symbols[i][0] <= addr < symbols[i][0] + max(symbols[i][1], 1):
            found.add(symbols[i][2])
    return found

run = {line.strip() for line in open(sys.argv[2])} | sampled(sys.argv[3])
other = sampled(sys.argv[4]) - run
names = [n for group in (run, other) for n in sorted((n for n in group if n in known), key=known.get)]
open(sys.argv[5], "w").write("".join(n + "\n" for n in names))
print(f"text-order.sh: {len(names)} functions in {sys.argv[5]}, a run's first")
EOF
