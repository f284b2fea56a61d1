// list: every container of the state root, as a table, JSON or ids.
#include <array>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.hpp"
#include "common/log.hpp"
#include "container/commands.hpp"
#include "container/status.hpp"
#include "state/store.hpp"

namespace urun::container {

std::string list(const GlobalOptions& global, ListFormat format) {
  state::StateStore store(state_root(global.root));
  std::vector<std::pair<state::Record, std::string>> rows;
  for (const auto& id : store.list_ids()) {
    state::LoadedRecord loaded;
    try {
      loaded = store.peek(id);
    } catch (const Error& e) {
      // ENOENT: deleted since it was listed, which is no news.
      if (e.code() != ENOENT)
        log::warning("list: container " + quote(id) + " skipped: " + e.what());
      continue;
    }
    // As crun does: a bad container is a warning, the others are listed.
    if (loaded.broken()) {
      log::warning("list: container " + quote(id) + " skipped: " + loaded.problem +
                   "; `delete --force " + id + "` removes it");
      continue;
    }
    if (!loaded.ok()) {
      state::Record creating;
      creating.id = id;
      rows.emplace_back(creating, "creating");
      continue;
    }
    std::string status = current_status(loaded.record);
    rows.emplace_back(std::move(loaded.record), status);
  }
  std::ostringstream out;
  if (format == ListFormat::quiet) {
    for (const auto& [rec, status] : rows) out << rec.id << "\n";
    return out.str();
  }
  if (format == ListFormat::json) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& [rec, status] : rows)
      arr.push_back(nlohmann::ordered_json::parse(oci_state_json(rec, status)));
    return arr.dump() + "\n";
  }
  // Column widths follow the content, as crun's table does.
  std::vector<std::array<std::string, 6>> table;
  table.push_back({"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"});
  for (const auto& [rec, status] : rows)
    table.push_back({rec.id, std::to_string(status == "stopped" ? 0 : rec.pid), status, rec.bundle,
                     rec.created, rec.owner});
  std::array<size_t, 6> width{};
  for (const auto& row : table)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : table) {
    for (size_t i = 0; i < row.size(); ++i) {
      out << row[i];
      if (i + 1 < row.size()) out << std::string(width[i] - row[i].size() + 2, ' ');
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace urun::container
