#include "container/open_container.hpp"

#include <regex>

#include "common/error.hpp"
#include "container/status.hpp"

namespace urun::container {

OpenedContainer open_container(const GlobalOptions& global, const std::string& id, Lock lock,
                               std::optional<IfNoRecord> no_record) {
  state::validate_id(id);
  state::StateStore store(state_root(global.root));
  state::ContainerDir dir = store.open(id, lock == Lock::exclusive);
  if (no_record && !dir.has_record())
    throw Error("container " + quote(id) + " " + no_record->what, no_record->code);
  state::Record record = dir.read();
  std::string status = current_status(record);
  return OpenedContainer{std::move(dir), std::move(record), std::move(status)};
}

void require_status(const OpenedContainer& opened, std::initializer_list<const char*> allowed,
                    const std::string& why) {
  for (const char* ok : allowed)
    if (opened.status == ok) return;
  throw Error("container " + quote(opened.dir.id()) + " is " + opened.status + why, EINVAL);
}

state::Record record_in_status(const GlobalOptions& global, const std::string& id,
                               std::initializer_list<const char*> allowed) {
  OpenedContainer opened = open_container(global, id, Lock::shared);
  require_status(opened, allowed);
  return std::move(opened.record);
}

state::LoadedRecord peek_container(const state::StateStore& store, const std::string& id) {
  state::LoadedRecord loaded = store.peek(id);
  if (loaded.broken()) throw_broken(loaded, id);
  return loaded;
}

void throw_broken(const state::LoadedRecord& loaded, const std::string& id) {
  throw Error(
      loaded.problem + "; `delete --force " + state::printable_id(id) + "` removes the container",
      EUCLEAN);
}

std::vector<std::string> matching_ids(const state::StateStore& store, const std::string& regex) {
  std::regex re;
  try {
    re = std::regex(regex, std::regex::extended);
  } catch (const std::regex_error& e) {
    throw Error("invalid regex " + quote(regex) + ": " + e.what(), EINVAL);
  }
  std::vector<std::string> ids;
  for (const auto& id : store.list_ids())
    if (std::regex_search(id, re)) ids.push_back(id);
  return ids;
}

}  // namespace urun::container
