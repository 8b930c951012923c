// The one-paragraph description printed by `gcnn --version`.
#include "kernels/build_info.h"

#include <fmt/core.h>

#include "kernels/cuda/backend.h"

namespace gcnn::build_info {

std::string describe() {
  std::string cuda = cuda::compiled_with_nvcc()
                         ? fmt::format("compiled in ({})", cuda::build_description())
                         : std::string("not compiled in (CPU only)");
  return fmt::format("galaxy-cnns {} (commit {})\nCUDA: {}", version(), git_commit(), cuda);
}

}  // namespace gcnn::build_info
