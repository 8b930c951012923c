// The fused SGD update through the CUDA backend under emulation, against the reference.
#include <gtest/gtest.h>

#include "kernels/cuda/emulation/control.h"
#include "tests/support/layer_op_checks.h"

namespace gcnn::test {
namespace {

TEST(SgdCuda, MatchesReference) {
  const std::uint64_t launches = emu::launch_count();
  expect_sgd_matches_reference(Device::cuda(0));
  EXPECT_GT(emu::launch_count(), launches);
}

}  // namespace
}  // namespace gcnn::test
