// The fused AdamW update through the CUDA backend under emulation, against the
// reference; many tensors go in one launch per 48.
#include <gtest/gtest.h>

#include <span>
#include <vector>

#include "kernels/cuda/emulation/control.h"
#include "kernels/ops/adamw.h"
#include "tests/support/adamw_checks.h"

namespace gcnn::test {
namespace {

TEST(AdamWCuda, MatchesReference) {
  const std::uint64_t launches = emu::launch_count();
  expect_adamw_matches_reference(Device::cuda(0));
  EXPECT_GT(emu::launch_count(), launches);
}

TEST(AdamWCuda, ManyTensorsMatchReference) { expect_adamw_many_tensors_match_reference(Device::cuda(0), 50); }

TEST(AdamWCuda, OneLaunchPer48Tensors) {
  const Device gpu = Device::cuda(0);
  std::vector<Tensor> buffers;
  for (int i = 0; i < 4 * 50; ++i) buffers.push_back(Tensor::zeros({3 + i / 4 % 5}, gpu));  // entry i / 4
  std::vector<ops::AdamWTensor> entries;
  for (int i = 0; i < 50; ++i)
    entries.push_back({&buffers[4 * i], &buffers[4 * i + 1], &buffers[4 * i + 2], &buffers[4 * i + 3], 0.01f, 0.0f, 1});
  const std::uint64_t launches = emu::launch_count();
  ops::adamw_update(std::span(entries).first(48), {});
  EXPECT_EQ(emu::launch_count() - launches, 1u);
  ops::adamw_update(entries, {});
  EXPECT_EQ(emu::launch_count() - launches, 3u);
}

}  // namespace
}  // namespace gcnn::test
