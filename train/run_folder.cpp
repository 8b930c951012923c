// Claiming and locking a run folder (see run_folder.h).
#include "train/run_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/ranges.h>

#include "kernels/error.h"
#include "train/checkpoint.h"

namespace gcnn::train {
namespace fs = std::filesystem;

namespace {

// The files a run writes; any of them means the folder holds a run.
const char* const kRunFiles[] = {"config.yaml", "metrics.csv", "last.safetensors", "last.state", "best.safetensors",
                                 "split.csv"};

}  // namespace

RunFolder::RunFolder(const fs::path& dir, bool resume, bool overwrite) {
  std::error_code ec;
  GCNN_INPUT_CHECK(!fs::exists(dir, ec) || fs::is_directory(dir, ec), "run folder {}: exists and is not a folder",
                   dir.string());
  std::vector<std::string> present;
  for (const char* name : kRunFiles)
    if (fs::exists(dir / name, ec)) present.push_back(name);
  if (resume) {
    GCNN_INPUT_CHECK(fs::exists(dir / "last.state", ec) && fs::exists(dir / "last.safetensors", ec),
                     "--resume {}: no last.state / last.safetensors there", dir.string());
    check_state_file(dir / "last.state");
  } else {
    GCNN_INPUT_CHECK(present.empty() || overwrite,
                     "run folder {} already holds a run ({}); give --resume {} to continue it, --overwrite to replace "
                     "it, or another name",
                     dir.string(), fmt::join(present, ", "), dir.string());
  }
  fs::create_directories(dir, ec);
  GCNN_INPUT_CHECK(!ec, "run folder {}: cannot create it: {}", dir.string(), ec.message());
  const fs::path lock_path = dir / ".lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  GCNN_INPUT_CHECK(lock_fd_ >= 0, "run folder {}: cannot open the lock file {}: {}", dir.string(), lock_path.string(),
                   std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(lock_fd_);
    lock_fd_ = -1;
    GCNN_INPUT_CHECK(err != EWOULDBLOCK, "run folder {}: another gcnn process is training into it (it holds {})",
                     dir.string(), lock_path.string());
    GCNN_INPUT_FAIL("run folder {}: cannot lock {}: {}", dir.string(), lock_path.string(), std::strerror(err));
  }
  if (!resume && overwrite)
    for (const char* name : kRunFiles) fs::remove(dir / name, ec);
}

RunFolder::~RunFolder() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

}  // namespace gcnn::train
