#pragma once
// Per-process attributes of the container init, applied in the child.
#include <map>
#include <string>
#include <vector>

#include "linux/procfs.hpp"
#include "spec/spec.hpp"
#include "userns/initial.hpp"

namespace urun::linux {

// RLIMIT_* number for "RLIMIT_NOFILE" etc., -1 when unknown.
int rlimit_from_name(std::string_view name);
// setrlimit for each entry; Error names the limit ("set rlimit `RLIMIT_NOFILE`: ...").
void apply_rlimits(const std::vector<spec::Rlimit>& rlimits);

// sethostname / setdomainname (only when non-empty).
void set_hostname(const std::string& hostname);
void set_domainname(const std::string& domainname);

// Writes each key to sys/<spec::sysctl_path(key)> of `proc`. validate() has checked the keys
// and the namespaces they need; a bad key is still an Error here, before anything is written.
void apply_sysctl(const ProcFs& proc, const std::map<std::string, std::string>& sysctl);

// Switches to the process user: PR_SET_KEEPCAPS so capabilities survive,
// setgroups(additionalGids) unless keep_original_groups, setresgid, setresuid,
// then umask when given.
void set_user(const spec::User& user, bool keep_original_groups);

void set_no_new_privs();

// Writes self/oom_score_adj of `proc`.
void set_oom_score_adj(const ProcFs& proc, int value);

// Joins a new anonymous session keyring named after the container, so the
// container does not see the caller's keys. Not available (ENOSYS, EPERM in
// some sandboxes) is not an error: it returns false.
bool join_new_session_keyring(const std::string& name);
// The same with the caller saying whether the process is in a new user
// namespace (the one-argument form reads /proc/self/uid_map): in one the
// keyring's owner is searched as "other", outside it as its user, as runc does.
bool join_new_session_keyring(const std::string& name, bool in_user_namespace);

// True unless the process runs in a user namespace other than the host's (userns/initial.hpp).
using userns::in_initial_user_namespace;

}  // namespace urun::linux
