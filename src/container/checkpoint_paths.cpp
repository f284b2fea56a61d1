#include "container/checkpoint_paths.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "criu/criu.hpp"

namespace urun::container {
namespace {

std::string absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  if (::getcwd(cwd, sizeof cwd) == nullptr) throw_errno("get the working directory");
  return std::string(cwd) + "/" + path;
}

// mkdir that tells whether it made the directory; an existing one must be a directory.
bool make_dir(const std::string& path, const std::string& what) {
  if (::mkdir(path.c_str(), 0700) == 0) return true;
  if (errno != EEXIST) throw_errno("create " + what + " " + quote(path));
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
    throw Error(what + " " + quote(path) + " is not a directory", ENOTDIR);
  return false;
}

}  // namespace

std::string require_criu(const std::string& what) {
  auto binary = criu::find_binary();
  if (!binary)
    throw Error(what +
                    ": CRIU is not installed (no `criu` in PATH): install CRIU 3.11 or later "
                    "(scripts/install-deps --criu)",
                ENOENT);
  return *binary;
}

void CheckpointDirs::remove_made_on_failure() const noexcept {
  if (!made_image || work == image) return;
  try {
    fs::remove_all_at(AT_FDCWD, image);
  } catch (const Error& e) {
    log::warning("remove " + quote(image) + ": " + e.what());
  }
}

CheckpointDirs prepare_checkpoint_dirs(const std::string& image_path, const std::string& work_path,
                                       bool create_image) {
  CheckpointDirs dirs;
  dirs.image = absolute(image_path.empty() ? "checkpoint" : image_path);
  if (create_image) {
    dirs.made_image = make_dir(dirs.image, "image directory");
  } else {
    struct stat st {};
    if (::stat(dirs.image.c_str(), &st) < 0)
      throw_errno("open image directory " + quote(dirs.image));
    if (!S_ISDIR(st.st_mode))
      throw Error("image directory " + quote(dirs.image) + " is not a directory", ENOTDIR);
  }
  dirs.work = work_path.empty() ? dirs.image : absolute(work_path);
  if (dirs.work != dirs.image) make_dir(dirs.work, "work directory");
  return dirs;
}

}  // namespace urun::container
