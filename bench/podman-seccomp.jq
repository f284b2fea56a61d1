# Sets a config.json's linux.seccomp to Podman's default profile, converted from
# the containers/common format (/usr/share/containers/seccomp.json) to OCI the
# way Podman does: the host's architectures from archMap; rules for other
# architectures, and rules whose capability condition the process's bounding
# set does not meet, dropped.
#   jq --arg arch "$(uname -m)" --slurpfile profile seccomp.json -f podman-seccomp.jq config.json
def goarch: {"x86_64": "amd64", "aarch64": "arm64", "s390x": "s390x", "ppc64le": "ppc64le"}[.] // .;
def scmparch: {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64",
               "s390x": "SCMP_ARCH_S390X", "ppc64le": "SCMP_ARCH_PPC64LE"}[.];
def has($list; $x): any($list[]; . == $x);

$profile[0] as $p
| (.process.capabilities.bounding // []) as $caps
| ($arch | goarch) as $ga
| ($arch | scmparch) as $sa
| .linux.seccomp =
    ({defaultAction: $p.defaultAction}
     + (if $p.defaultErrnoRet then {defaultErrnoRet: $p.defaultErrnoRet} else {} end)
     + {architectures: ([$sa] + [($p.archMap // [])[] | select(.architecture == $sa)
                                  | .subArchitectures[]])}
     + {syscalls: [$p.syscalls[]
          | (.includes // {}) as $inc
          | (.excludes // {}) as $exc
          | select(($inc.arches // []) as $a | ($a | length) == 0 or has($a; $ga))
          | select(($exc.arches // []) as $a | has($a; $ga) | not)
          | select(($inc.caps // []) | all(. as $c | has($caps; $c)))
          | select(($exc.caps // []) | any(. as $c | has($caps; $c)) | not)
          | {names, action}
            + (if (.args // []) | length > 0 then {args} else {} end)
            + (if .errnoRet then {errnoRet} else {} end)]})
