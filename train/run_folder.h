// The run folder a training process owns: before anything is written, a new
// run refuses a folder that already holds one (unless overwrite), a resumed
// run checks its last.state, and the folder is locked (flock on .lock) so two
// processes cannot train into it at once. The lock lasts as long as the object.
#pragma once

#include <filesystem>

namespace gcnn::train {

class RunFolder {
 public:
  // Throws an InputError naming dir, and changes nothing, when the folder
  // cannot be claimed: it holds a run and neither resume nor overwrite is set,
  // resume finds no valid last.state / last.safetensors, or another process
  // holds the lock. With overwrite, the previous run's checkpoints are removed.
  RunFolder(const std::filesystem::path& dir, bool resume, bool overwrite);
  ~RunFolder();
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

 private:
  int lock_fd_ = -1;
};

}  // namespace gcnn::train
