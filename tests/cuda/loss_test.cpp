// Regression losses through the CUDA backend under emulation, against the reference.
#include <gtest/gtest.h>

#include "kernels/cuda/emulation/control.h"
#include "tests/cuda/thread_orders.h"
#include "tests/support/layer_op_checks.h"

namespace gcnn::test {
namespace {

TEST(LossCuda, MatchesReference) {
  const std::uint64_t launches = emu::launch_count();
  for_each_thread_order([] { expect_loss_matches_reference(Device::cuda(0)); });
  EXPECT_GT(emu::launch_count(), launches);
}

TEST(LossCuda, OnDeviceMatchesReference) {
  const std::uint64_t launches = emu::launch_count();
  for_each_thread_order([] { expect_device_loss_matches_reference(Device::cuda(0)); });
  EXPECT_GT(emu::launch_count(), launches);
}

}  // namespace
}  // namespace gcnn::test
