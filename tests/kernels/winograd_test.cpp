// WinogradConv3x3 against the float64 reference convolution (plus bias, sum
// and ReLU computed here), on odd sizes, channel counts that leave padding
// in the 8-channel blocks, and chunks that split the tiles unevenly.
#include "kernels/cpu/winograd.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/reference/conv.h"
#include "tests/support/test_support.h"

namespace gcnn {
namespace {

using cpu::WinogradConv3x3;
using Epilogue = WinogradConv3x3::Epilogue;

std::int64_t padded(std::int64_t channels) { return (channels + 7) / 8 * 8; }

// An NCHW tensor's values in nChw8c, the padding channels set to pad.
std::vector<float> to_blocked(const Tensor& t, float pad = 0.0f) {
  const std::int64_t n = t.dim(0), c = t.dim(1), plane = t.dim(2) * t.dim(3), cp = padded(c);
  const std::vector<float> v = t.to_vector();
  std::vector<float> out(static_cast<std::size_t>(n * cp * plane), pad);
  for (std::int64_t b = 0; b < n; ++b)
    for (std::int64_t ch = 0; ch < c; ++ch)
      for (std::int64_t i = 0; i < plane; ++i)
        out[static_cast<std::size_t>(((b * (cp / 8) + ch / 8) * plane + i) * 8 + ch % 8)] =
            v[static_cast<std::size_t>((b * c + ch) * plane + i)];
  return out;
}

struct Case {
  std::int64_t n, c, k, h, w;
  Epilogue epilogue;
  std::size_t chunk_bytes;
};

void check(const Case& cs) {
  SCOPED_TRACE(testing::Message() << "n " << cs.n << " c " << cs.c << " k " << cs.k << " " << cs.h << "x" << cs.w
                                  << " epilogue " << static_cast<int>(cs.epilogue) << " chunk " << cs.chunk_bytes);
  const Tensor x = test::random_tensor({cs.n, cs.c, cs.h, cs.w}, 1);
  const Tensor w = test::random_tensor({cs.k, cs.c, 3, 3}, 2, -0.3f, 0.3f);
  const Tensor bias = test::random_tensor({cs.k}, 3);
  const Tensor shortcut = test::random_tensor({cs.n, cs.k, cs.h, cs.w}, 4);
  Tensor y = Tensor::empty({cs.n, cs.k, cs.h, cs.w});
  reference::conv2d_forward(x, w, bias, y, {1, 1, 1, 1});
  std::vector<float> want = y.to_vector();
  const std::vector<float> sc = shortcut.to_vector();
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (cs.epilogue == Epilogue::sum_relu) want[i] += sc[i];
    if (cs.epilogue != Epilogue::none) want[i] = std::max(want[i], 0.0f);
  }

  const WinogradConv3x3 conv(std::make_shared<const cpu::WinogradWeights>(w, bias), cs.n, cs.h, cs.w, cs.epilogue,
                             cs.chunk_bytes);
  const std::vector<float> src = to_blocked(x);
  // Without a sum, every output value (padding channels too) must be written over the NaNs.
  std::vector<float> dst = cs.epilogue == Epilogue::sum_relu
                               ? to_blocked(shortcut)
                               : to_blocked(Tensor::full(shortcut.shape(), std::numeric_limits<float>::quiet_NaN()),
                                            std::numeric_limits<float>::quiet_NaN());
  std::vector<float> scratch(conv.scratch_floats(), std::numeric_limits<float>::quiet_NaN());
  conv.run(src.data(), dst.data(), scratch.data());

  const std::vector<float> want_blocked = to_blocked(Tensor::from_vector(y.shape(), want));
  double worst = 0.0;
  for (std::size_t i = 0; i < dst.size(); ++i) {
    ASSERT_TRUE(std::isfinite(dst[i])) << "at " << i;
    worst = std::max(worst, std::abs(static_cast<double>(dst[i]) - want_blocked[i]));
  }
  EXPECT_LT(worst, 2e-5) << "largest |winograd - reference|";
}

TEST(WinogradConv3x3Test, MatchesTheReferenceConvolution) {
  if (!WinogradConv3x3::available()) GTEST_SKIP() << "the CPU has no AVX2 and FMA";
  const std::size_t whole = WinogradConv3x3::kChunkBytes;
  check({2, 12, 20, 5, 7, Epilogue::relu, whole});      // odd sizes, padding channels in and out
  check({1, 8, 8, 1, 1, Epilogue::none, whole});        // one pixel: every tap but the centre is padding
  check({3, 3, 9, 6, 4, Epilogue::sum_relu, whole});    // fewer channels than a block
  check({2, 16, 24, 9, 10, Epilogue::sum_relu, 6144});  // 4 tiles per chunk: 50 tiles, a partial last chunk
  check({2, 16, 8, 7, 9, Epilogue::none, 5000});        // 4 tiles per chunk: 40 tiles, the last chunk full
  check({1, 24, 16, 11, 3, Epilogue::relu, 7 * 1536});  // 7 tiles per chunk: 12 tiles, a partial last chunk
  check({2, 64, 64, 8, 8, Epilogue::sum_relu, whole});  // a ResNet stage's shape
}

}  // namespace
}  // namespace gcnn
