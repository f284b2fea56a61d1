#!/usr/bin/env bash
# Container start-up benchmark: `RUNTIME run` of a container whose process is
# busybox's /bin/true, root and rootless, for each runtime given.
#   bench/startup.sh RUNTIME...        e.g. bench/startup.sh build/urun runc crun
# Environment: N (measured runs per runtime and mode, default 30), WARMUP
# (unmeasured runs first, default 3), URUN_TEST_USER (rootless user when run
# as root, default urun-test).
#
# Runs are interleaved (A, B, floor, A, B, floor, ...) so machine noise spreads
# evenly. Wall time is taken around the whole command; peak RSS is
# /usr/bin/time's %M (KiB, largest of the runtime and its children). The
# wrappers (/usr/bin/time, and setpriv + env for rootless) cost the same for
# every row, floor included. The floor is unshare(1) making the same kinds of
# namespaces and running /bin/true: no runtime can start faster than that.
set -euo pipefail
export LC_ALL=C   # EPOCHREALTIME with a '.' decimal separator

n=${N:-30}
warmup=${WARMUP:-3}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ $# -eq 0 ]; then
  echo "usage: bench/startup.sh RUNTIME..." >&2
  exit 2
fi
[ -x /usr/bin/time ] || { echo "startup.sh: /usr/bin/time missing: apt-get install time" >&2; exit 1; }

labels=()
paths=()
for runtime in "$@"; do
  path=$(command -v "$runtime") || { echo "startup.sh: runtime not found: $runtime" >&2; exit 1; }
  labels+=("$runtime")
  paths+=("$(readlink -f "$path")")
done
labels+=("unshare (floor)")
floor=${#paths[@]}

tmp=$(mktemp -d /tmp/urun-bench.XXXXXX)
chmod 0755 "$tmp"
current_cmd=()
current_id=
cleanup() {
  # A failed run may leave a container record behind: delete it as its owner.
  if [ -n "$current_id" ] && [ ${#current_cmd[@]} -gt 0 ]; then
    "${current_cmd[@]}" delete --force "$current_id" >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$repo/scripts/make-rootfs" "$tmp/rootfs"

modes=()
if [ "$(id -u)" -eq 0 ]; then
  modes+=(root)
  if user_line=$("$repo/scripts/install-deps" --test-user 2>"$tmp/user.err"); then
    read -r user uid <<<"$user_line"
    modes+=(rootless)
  else
    echo "startup.sh: skipping rootless: cannot set up an unprivileged user: $(cat "$tmp/user.err")" >&2
  fi
else
  echo "startup.sh: not root: measuring rootless only (as $(id -un))" >&2
  user=$(id -un)
  uid=$(id -u)
  modes+=(rootless)
fi

# The command prefix that runs something as the mode's user.
prefix_for() {
  if [ "$1" = rootless ] && [ "$(id -u)" -eq 0 ]; then
    prefix=(setpriv "--reuid=$user" "--regid=$user" --init-groups
            env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/ "USER=$user"
            "XDG_RUNTIME_DIR=/run/user/$uid")
  else
    prefix=(env)
  fi
}

# Replace the spec's "args" with ["/bin/true"] and turn the terminal off; GNU
# sed on the whole file, as no JSON tool is assumed.
patch_config() {
  sed -z -i \
    -e 's|"args"[[:space:]]*:[[:space:]]*\[[^]]*\]|"args": ["/bin/true"]|' \
    -e 's|"terminal"[[:space:]]*:[[:space:]]*true|"terminal": false|' "$1"
  grep -q '"args": \["/bin/true"\]' "$1" || { echo "startup.sh: could not patch $1" >&2; exit 1; }
}

# Per mode and runtime: a bundle, a state root, a scratch dir for the rss and
# stderr files, all owned by the user that runs them.
declare -A failed=()
declare -a paths_rootless=()
for mode in "${modes[@]}"; do
  prefix_for "$mode"
  for k in "${!labels[@]}"; do
    dir=$tmp/$mode-$k
    mkdir -p "$dir/bundle" "$dir/state" "$dir/scratch"
    if [ "$k" -eq "$floor" ]; then
      [ "$mode" = rootless ] && [ "$(id -u)" -eq 0 ] && chown "$user:" "$dir/scratch"
      continue
    fi
    cp -a "$tmp/rootfs" "$dir/bundle/rootfs"
    if [ "$mode" = rootless ] && [ "$(id -u)" -eq 0 ]; then
      chown -R "$user:" "$dir/bundle" "$dir/state" "$dir/scratch"
      chmod 0700 "$dir/state"
      # The runtime binary must be reachable by the user (not under /root).
      if ! "${prefix[@]}" test -x "${paths[$k]}"; then
        install -m 0755 "${paths[$k]}" "$dir/$(basename "${paths[$k]}")"
        paths_rootless[k]=$dir/$(basename "${paths[$k]}")
      fi
    fi
    : >"$dir/scratch/err"
    [ "$mode" = rootless ] && [ "$(id -u)" -eq 0 ] && chown "$user:" "$dir/scratch/err"
    spec_args=(spec)
    [ "$mode" = rootless ] && spec_args+=(--rootless)
    # A rootless spec maps the calling user: generate it as that user.
    # shellcheck disable=SC2016 # expanded by the inner shell
    if ! "${prefix[@]}" sh -c 'cd "$1" && shift && exec "$@"' sh "$dir/bundle" \
        "${paths_rootless[k]:-${paths[$k]}}" "${spec_args[@]}" 2>"$dir/scratch/err"; then
      echo "startup.sh: ${labels[$k]} $mode: spec failed: $(cat "$dir/scratch/err")" >&2
      failed[$mode-$k]=1
      continue
    fi
    patch_config "$dir/bundle/config.json"
  done
done

# One measured run: appends the wall time (µs) and peak RSS (KiB) to the
# result files of mode and runtime k; returns non-zero if the run failed.
run_once() {
  local mode=$1 k=$2 i=$3 keep=$4 dir=$tmp/$1-$2 start end cmd
  local bin=${paths[$k]:-}
  [ "$mode" = rootless ] && bin=${paths_rootless[k]:-$bin}
  if [ "$k" -eq "$floor" ]; then
    if [ "$mode" = root ]; then
      cmd=(unshare --mount --uts --ipc --net --pid --fork /bin/true)
    else
      cmd=(unshare --user --map-root-user --mount --uts --ipc --pid --fork /bin/true)
    fi
  else
    current_id=bench-$$-$k-$i
    current_cmd=("${prefix[@]}" "$bin" --root "$dir/state")
    cmd=("$bin" --root "$dir/state" run --bundle "$dir/bundle" "$current_id")
  fi
  start=$EPOCHREALTIME
  if ! "${prefix[@]}" /usr/bin/time -f %M -o "$dir/scratch/rss" "${cmd[@]}" \
      </dev/null >/dev/null 2>"$dir/scratch/err"; then
    return 1
  fi
  end=$EPOCHREALTIME
  current_id=
  if [ "$keep" = 1 ]; then
    echo $(( ${end/./} - ${start/./} )) >>"$dir/us"
    tail -n 1 "$dir/scratch/rss" >>"$dir/rss"
  fi
}

for mode in "${modes[@]}"; do
  prefix_for "$mode"
  echo "startup.sh: $mode: $warmup warm-up + $n measured runs per runtime, interleaved" >&2
  for ((i = 1; i <= warmup + n; i++)); do
    for k in "${!labels[@]}"; do
      [ -n "${failed[$mode-$k]:-}" ] && continue
      keep=0
      [ "$i" -gt "$warmup" ] && keep=1
      if ! run_once "$mode" "$k" "$i" "$keep"; then
        echo "startup.sh: ${labels[$k]} $mode: run $i failed: $(head -c 2000 "$tmp/$mode-$k/scratch/err")" >&2
        failed[$mode-$k]=1
      fi
    done
  done
done

# median and p90 (nearest rank) of a file of integers, one per line
stats() {
  sort -n "$1" | awk '{ v[NR] = $1 }
    END {
      if (NR == 0) { print "- -"; exit }
      med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      r = int(0.9 * NR); if (r < 0.9 * NR) r++
      print med, v[r]
    }'
}

echo
echo "start-up of a /bin/true container: $n runs, $(uname -r), $(nproc) cpus"
w=7
for label in "${labels[@]}"; do ((${#label} > w)) && w=${#label}; done
printf '%-*s %-9s %10s %10s %16s %8s\n' "$w" runtime mode "median ms" "p90 ms" "peak RSS KiB" ratio
for mode in "${modes[@]}"; do
  base=
  for k in "${!labels[@]}"; do
    dir=$tmp/$mode-$k
    if [ -n "${failed[$mode-$k]:-}" ] || [ ! -s "$dir/us" ]; then
      printf '%-*s %-9s %10s\n' "$w" "${labels[$k]}" "$mode" FAILED
      continue
    fi
    read -r med p90 < <(stats "$dir/us")
    read -r rss _ < <(stats "$dir/rss")
    [ -z "$base" ] && base=$med
    printf '%-*s %-9s %10.2f %10.2f %16.0f %8.2f\n' "$w" "${labels[$k]}" "$mode" \
      "$(awk -v x="$med" 'BEGIN { print x / 1000 }')" \
      "$(awk -v x="$p90" 'BEGIN { print x / 1000 }')" \
      "$rss" "$(awk -v x="$med" -v b="$base" 'BEGIN { print x / b }')"
  done
done
echo "ratio: median / median of the first runtime in the same mode"
[ ${#failed[@]} -eq 0 ]
