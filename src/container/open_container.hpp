#pragma once
// How every command on an existing container finds it: check the id, open its state
// directory under the lock, read its record and derive its status. Each command then says in
// its own words which statuses it works in.
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "container/commands.hpp"
#include "state/store.hpp"

namespace urun::container {

struct OpenedContainer {
  state::ContainerDir dir;  // holds the lock until destroyed (or dir.unlock())
  state::Record record;
  std::string status;  // current_status(record)
};

enum class Lock { shared, exclusive };

// What a command says of a container whose create has not written a record yet:
// "container `id` <what>" with errno `code`.
struct IfNoRecord {
  const char* what;
  int code;
};
inline constexpr IfNoRecord kStillBeingCreated{"is still being created", EBUSY};

// Throws Error(ENOENT) when the container does not exist. Without a record: the Error of
// no_record, or with nullopt the one reading the record gives (state::ContainerDir::read).
OpenedContainer open_container(const GlobalOptions& global, const std::string& id, Lock lock,
                               std::optional<IfNoRecord> no_record = kStillBeingCreated);

// Throws Error("container `id` is <status><why>", EINVAL) unless the status is one of allowed.
void require_status(const OpenedContainer& opened, std::initializer_list<const char*> allowed,
                    const std::string& why = "");

// open_container (shared) and require_status for a command that acts after letting go of
// the lock: the record alone.
state::Record record_in_status(const GlobalOptions& global, const std::string& id,
                               std::initializer_list<const char*> allowed);

// The record read without the lock (StateStore::peek); a broken one throws (throw_broken).
state::LoadedRecord peek_container(const state::StateStore& store, const std::string& id);

// What `state`, `kill` and `delete` say about a broken record, with the way out.
[[noreturn]] void throw_broken(const state::LoadedRecord& loaded, const std::string& id);

// The ids of the containers that `--regex` (POSIX extended) matches.
std::vector<std::string> matching_ids(const state::StateStore& store, const std::string& regex);

}  // namespace urun::container
