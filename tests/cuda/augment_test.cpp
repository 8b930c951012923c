// The CUDA augmentation kernel, run under the emulation harness, against the
// CPU path on random images and random warps (zoom, rotation, dihedral,
// brightness, resizing 20 -> 13 and 16 -> 16).
#include <gtest/gtest.h>

#include <cmath>

#include "data/augment.h"
#include "data/loader.h"
#include "data/random.h"
#include "kernels/ops/augment.h"
#include "tests/support/test_support.h"

namespace gcnn {
namespace {

void compare_devices(int batch, int in_size, int out_size, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(batch) * in_size * in_size * 3);
  for (auto& p : pixels) p = static_cast<std::uint8_t>(rng.below(256));
  AugmentOptions opts;
  opts.max_zoom = 1.3f;
  opts.max_rotate_deg = 25;
  opts.brightness = 0.3f;
  std::vector<Warp> warps;
  for (int b = 0; b < batch; ++b) warps.push_back(draw_warp(opts, seed, 0, static_cast<std::uint64_t>(b), in_size, out_size));
  ChannelStats stats;
  stats.mean = {0.2f, 0.3f, 0.4f};
  stats.std = {0.1f, 0.2f, 0.3f};

  Tensor cpu_out = Tensor::empty({batch, 3, out_size, out_size});
  ops::augment_images(pack_bytes(pixels.data(), pixels.size()), in_size, pack_warps(warps), stats.normalization(),
                      cpu_out);
  const Device gpu = Device::cuda(0);
  Tensor gpu_out = Tensor::empty({batch, 3, out_size, out_size}, gpu);
  ops::augment_images(pack_bytes(pixels.data(), pixels.size(), gpu), in_size, pack_warps(warps, gpu),
                      stats.normalization(), gpu_out);
  std::vector<float> a = cpu_out.to_vector(), b = gpu_out.to_vector();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4 * (1 + std::abs(a[i]))) << i;
  EXPECT_LE(test::relative_error(gpu_out, cpu_out), 1e-5);
}

TEST(CudaAugment, MatchesCpuSameSize) { compare_devices(3, 16, 16, 1); }
TEST(CudaAugment, MatchesCpuResizing) { compare_devices(5, 20, 13, 2); }

TEST(CudaAugment, DihedralWarpIsExactOnDevice) {
  std::vector<std::uint8_t> pixels(8 * 8 * 3);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 7);
  Image img(8, 8);
  img.pixels = pixels;
  for (int k = 0; k < 8; ++k) {
    Tensor out = Tensor::empty({1, 3, 8, 8}, Device::cuda(0));
    ops::augment_images(pack_bytes(pixels.data(), pixels.size(), Device::cuda(0)), 8,
                        pack_warps({dihedral_warp(k, 8, 8)}, Device::cuda(0)), Normalization{}, out);
    std::vector<float> got = out.to_vector();
    Image expected = dihedral(img, k);
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 64; ++p)
        ASSERT_FLOAT_EQ(got[static_cast<std::size_t>(c * 64 + p)],
                        expected.pixels[static_cast<std::size_t>(p * 3 + c)] / 255.0f)
            << "k=" << k;
  }
}

TEST(CudaAugment, LoaderDevicePathMatchesCpuLoader) {
  Dataset ds;
  std::vector<std::uint8_t> px(5 * 12 * 12 * 3);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 11);
  ds.images = ImageDataset::from_pixels(12, px);
  for (int i = 0; i < 5; ++i) ds.catalog.ids.push_back(std::to_string(i));
  ds.catalog.lines.resize(5);
  std::vector<std::size_t> rows = {0, 1, 2, 3, 4};
  LoaderOptions opts;
  opts.batch_size = 2;
  opts.augment = true;
  DataLoader host(ds, rows, opts);
  opts.augment_on_device = true;
  DataLoader device(ds, rows, opts);
  host.start_epoch(0);
  device.start_epoch(0);
  Batch a, b;
  while (host.next(a)) {
    ASSERT_TRUE(device.next(b));
    Tensor on_gpu = device.images_on(b, Device::cuda(0));
    EXPECT_EQ(on_gpu.device(), Device::cuda(0));
    std::vector<float> want = a.images.to_vector(), got = on_gpu.to_vector();
    ASSERT_EQ(want.size(), got.size());
    for (std::size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(want[i], got[i], 1e-5) << i;
  }
}

}  // namespace
}  // namespace gcnn
