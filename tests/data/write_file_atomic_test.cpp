// write_file_atomic: the new content reaches the disk before the rename (the
// file is fsynced) and the rename itself is made durable (the folder is fsynced
// after it). fsync is interposed here to record which kinds of file it synced.
#include "data/csv.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {
std::vector<std::string>* g_synced = nullptr;  // "file" or "folder", while a test records
}

// Replaces libc's fsync for this program; forwards to the system call.
extern "C" int fsync(int fd) {
  if (g_synced) {
    struct stat st {};
    if (::fstat(fd, &st) == 0) g_synced->push_back(S_ISDIR(st.st_mode) ? "folder" : "file");
  }
  return static_cast<int>(::syscall(SYS_fsync, fd));
}

namespace gcnn {
namespace {

TEST(WriteFileAtomic, SyncsTheFileBeforeTheRenameAndTheFolderAfter) {
  const auto dir = std::filesystem::temp_directory_path() / "gcnn_write_file_atomic_test";
  std::filesystem::create_directories(dir);
  std::vector<std::string> synced;
  g_synced = &synced;
  write_file_atomic(dir / "out.txt", "new content\n");
  g_synced = nullptr;
  EXPECT_EQ(synced, (std::vector<std::string>{"file", "folder"}));
  std::ifstream in(dir / "out.txt");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "new content");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gcnn
