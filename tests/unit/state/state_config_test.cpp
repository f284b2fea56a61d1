// The config a container was created with: carried by identity.json (no file of its own in the
// state dir), else the config.json copy of containers made by an older urun or restored.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "common/fs.hpp"
#include "state/store.hpp"
#include "temp_dir.hpp"

namespace {

using urun::state::config_of_record;
using urun::state::ContainerDir;
using urun::state::Record;
using urun::state::StateStore;
using urun::state::to_json_text;
using urun_test::TempDir;

Record record(const std::string& id) {
  Record r;
  r.oci_version = "1.3.0";
  r.id = id;
  r.status = "creating";
  r.cgroup_manager = "disabled";
  return r;
}

const std::string kConfig =
    "{\n  \"ociVersion\": \"1.3.0\",\n  \"process\": {\"args\": [\"sh\"]}\n}\n";

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

TEST(StateConfig, IdentityCarriesTheConfigVerbatim) {
  TempDir tmp;
  StateStore store(tmp.path());
  ContainerDir c = store.create("web");
  EXPECT_FALSE(c.read_config());
  c.write_identity(record("web"), kConfig);
  EXPECT_EQ(c.read_config().value_or(""), kConfig);
  // No config copy of its own, and the identity is still the record.
  EXPECT_FALSE(exists(c.path() + "/config.json"));
  EXPECT_EQ(c.read().status, "creating");
  EXPECT_EQ(c.load_identity().record.id, "web");
}

TEST(StateConfig, FallsBackToTheConfigCopy) {
  TempDir tmp;
  StateStore store(tmp.path());
  ContainerDir c = store.create("web");
  urun::fs::write_file(c.path() + "/config.json", kConfig, 0600);
  EXPECT_EQ(c.read_config().value_or(""), kConfig);  // no identity.json
  c.write_identity(record("web"));                   // an identity without a config
  EXPECT_EQ(c.read_config().value_or(""), kConfig);
}

TEST(StateConfig, BrokenOrForeignIdentityGivesNoConfig) {
  TempDir tmp;
  StateStore store(tmp.path());
  ContainerDir c = store.create("web");
  urun::fs::write_file(c.path() + "/identity.json", to_json_text(record("db"), kConfig), 0600);
  EXPECT_FALSE(c.read_config());
  urun::fs::write_file(c.path() + "/identity.json", "{\"id\":\"web\",\"config\":\"{", 0600);
  EXPECT_FALSE(c.read_config());
}

TEST(StateConfig, ConfigOfRecordText) {
  EXPECT_EQ(config_of_record(to_json_text(record("web"), kConfig), "web").value_or(""), kConfig);
  EXPECT_FALSE(config_of_record(to_json_text(record("web")), "web"));
  EXPECT_FALSE(config_of_record(to_json_text(record("web"), kConfig), "db"));
  EXPECT_FALSE(config_of_record("{\"id\":\"web\",\"config\":{}}", "web"));
  EXPECT_FALSE(config_of_record("[]", "web"));
  EXPECT_FALSE(config_of_record("", "web"));
}

}  // namespace
