#pragma once
// What checkpoint and restore share: the CRIU binary they need, and the image
// and work directories (absolute, made when missing, removed again on failure
// when this command made them and no log in them is to be read).
#include <string>

namespace urun::container {

// The criu binary, or Error(ENOENT) "<what>: CRIU is not installed ..." with the fix.
std::string require_criu(const std::string& what);

struct CheckpointDirs {
  std::string image;  // absolute
  std::string work;   // absolute; the image directory when no work path was given
  bool made_image = false;
  // After a failure: removes the image directory this command made, unless it
  // also holds CRIU's log (the error points there).
  void remove_made_on_failure() const noexcept;
};

// image_path "" -> ./checkpoint. The image directory is made (0700) when
// missing only if create_image (checkpoint; a restore needs existing images);
// the work directory is always made when missing, as crun 1.22 does.
CheckpointDirs prepare_checkpoint_dirs(const std::string& image_path, const std::string& work_path,
                                       bool create_image);

}  // namespace urun::container
