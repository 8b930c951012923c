// The augmentation kernel on a real GPU against the CPU path (label gpu;
// skips with the reason when no CUDA device is present).
#include <gtest/gtest.h>

#include <cmath>

#include "data/augment.h"
#include "data/random.h"
#include "kernels/device.h"
#include "kernels/ops/augment.h"
#include "tests/support/test_support.h"

namespace gcnn {
namespace {

TEST(GpuAugment, MatchesCpu) {
  if (!cuda_unavailable_reason().empty()) GTEST_SKIP() << cuda_unavailable_reason();
  const int batch = 17, in_size = 128, out_size = 112;
  Rng rng(5);
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(batch) * in_size * in_size * 3);
  for (auto& p : pixels) p = static_cast<std::uint8_t>(rng.below(256));
  AugmentOptions opts;
  opts.brightness = 0.2f;
  std::vector<Warp> warps;
  for (int b = 0; b < batch; ++b) warps.push_back(draw_warp(opts, 5, 1, static_cast<std::uint64_t>(b), in_size, out_size));
  ChannelStats stats;
  stats.mean = {0.05f, 0.04f, 0.03f};
  stats.std = {0.08f, 0.07f, 0.06f};
  Tensor cpu_out = Tensor::empty({batch, 3, out_size, out_size});
  ops::augment_images(pack_bytes(pixels.data(), pixels.size()), in_size, pack_warps(warps), stats.normalization(),
                      cpu_out);
  const Device gpu = Device::cuda(0);
  Tensor gpu_out = Tensor::empty({batch, 3, out_size, out_size}, gpu);
  ops::augment_images(pack_bytes(pixels.data(), pixels.size(), gpu), in_size, pack_warps(warps, gpu),
                      stats.normalization(), gpu_out);
  EXPECT_LE(test::relative_error(gpu_out, cpu_out), 1e-5);
}

}  // namespace
}  // namespace gcnn
