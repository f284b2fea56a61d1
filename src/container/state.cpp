// state: the OCI state of one container.
#include "common/error.hpp"
#include "container/commands.hpp"
#include "container/open_container.hpp"
#include "container/status.hpp"
#include "state/store.hpp"

namespace urun::container {

std::string state(const GlobalOptions& global, const std::string& id) {
  state::validate_id(id);
  state::StateStore store(state_root(global.root));
  state::LoadedRecord loaded = peek_container(store, id);
  if (!loaded.ok()) {
    state::Record creating;
    creating.id = id;
    return oci_state_json(creating, "creating", true);
  }
  return oci_state_json(loaded.record, current_status(loaded.record), true);
}

}  // namespace urun::container
