// What this build is: version, git commit, and the CUDA backend compiled in.
#pragma once

#include <string>

namespace gcnn::build_info {

const char* version();      // generated at build time (cmake/WriteBuildInfo.cmake)
const char* git_commit();   // generated at build time
// "galaxy-cnns 0.1.0 (commit abc123), CUDA: compiled in (CUDA 13.0, cuDNN 9.19.0)"
std::string describe();

}  // namespace gcnn::build_info
