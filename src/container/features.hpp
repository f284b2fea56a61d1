#pragma once
// What this build of urun supports, for `urun features` (runtime-spec features.md) and the
// tags of `urun --version`. Built from the tables the modules apply (namespaces, libcap's
// capability names, the mount option tables, seccomp's action/operator/arch/flag tables), so
// that a client (Podman, containerd, Kubernetes tooling) is told neither less nor more than
// urun does. tests/unit/features_test.cpp cross-checks each list against the code.
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

// ---- features of modules built on other branches (features_pending.cpp) ------------------
// Adds to `f` the entries of modules developed beside this one (issue 11: i11-mounts,
// i11-hostres, i11-procattr; issue 14: i14-criu). Each entry names its branch; when a branch
// is merged, its entries move to its module's table and out of this function.
void add_pending_features(nlohmann::ordered_json& f);
// The mount options add_pending_features lists (the unit test's cross-check lets these alone
// until their branch is merged).
const std::vector<std::string>& pending_mount_options();
// Whether checkpoint/restore can work: a usable criu was found. i14-criu wires this; until
// then false (no +CRIU, no checkpoint annotation).
bool criu_usable();

}  // namespace urun::container
