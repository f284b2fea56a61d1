// ps: the host pids of the container's processes.
#include <nlohmann/json.hpp>
#include <sstream>

#include "container/commands.hpp"
#include "container/open_container.hpp"
#include "container/processes.hpp"
#include "state/store.hpp"

namespace urun::container {

std::string ps(const GlobalOptions& global, const std::string& id, const std::string& format) {
  state::Record rec = record_in_status(global, id, {"running", "created", "paused"});
  std::vector<pid_t> pids = container_pids(rec);
  if (format == "json") return nlohmann::json(pids).dump() + "\n";
  std::ostringstream out;
  out << "PID\n";
  for (pid_t pid : pids) out << pid << "\n";
  return out.str();
}

}  // namespace urun::container
