#pragma once
// What this build of urun supports, for `urun features` (runtime-spec features.md) and the
// tags of `urun --version`. Built from the tables the modules apply (namespaces, libcap's
// capability names, the mount option tables, seccomp's action/operator/arch/flag tables), so
// that a client (Podman, containerd, Kubernetes tooling) is told neither less nor more than
// urun does. tests/unit/container/features_test.cpp cross-checks each list against the code.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace urun::container {

// The runtime-spec features document, valid against schema/features-schema.json of
// runtime-spec 1.3 (tests/schema/).
nlohmann::ordered_json features();

// crun's style: "+SYSTEMD +SELINUX +APPARMOR +CAP +SECCOMP +EBPF +CRIU ...", each tag only
// when that support is there.
std::string version_tags();

}  // namespace urun::container
