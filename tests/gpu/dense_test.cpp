// The real CUDA backend's conv2d (cuDNN) and linear (cuBLAS) against the
// reference on the awkward shapes, and against the CPU backend at ResNet-18
// shapes. Skips with the reason when no CUDA device is usable.
#include <gtest/gtest.h>

#include "kernels/device.h"
#include "kernels/ops/conv.h"
#include "tests/support/dense_op_checks.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

#define GCNN_REQUIRE_GPU()                                                   \
  do {                                                                       \
    const std::string why = cuda_unavailable_reason();                       \
    if (!why.empty()) GTEST_SKIP() << "no CUDA device: " << why;             \
  } while (0)

TEST(GpuConv2d, MatchesReferenceOnAwkwardShapes) {
  GCNN_REQUIRE_GPU();
  std::uint64_t seed = 900;
  for (const ConvCase& c : awkward_conv_cases()) expect_conv_matches_reference(c, Device::cuda(0), seed += 10);
}

TEST(GpuLinear, MatchesReferenceOnAwkwardShapes) {
  GCNN_REQUIRE_GPU();
  std::uint64_t seed = 950;
  for (const LinearCase& c : awkward_linear_cases()) expect_linear_matches_reference(c, Device::cuda(0), seed += 10);
}

TEST(GpuConv2d, MatchesCpuAtResNetShapes) {
  GCNN_REQUIRE_GPU();
  const std::vector<ConvCase> cases = {
      {"stem", {8, 3, 128, 128}, {64, 3, 7, 7}, {2, 2, 3, 3}},
      {"layer2_3x3", {8, 128, 16, 16}, {128, 128, 3, 3}, {1, 1, 1, 1}},
      {"layer3_downsample", {8, 128, 16, 16}, {256, 128, 1, 1}, {2, 2, 0, 0}},
  };
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Shape out = ops::conv2d_output_shape(c.x, c.w, c.params);
    const Tensor x = random_tensor(c.x, 1), w = random_tensor(c.w, 2, -0.1f, 0.1f), dy = random_tensor(out, 3);
    Tensor y_cpu = Tensor::empty(out), dx_cpu = Tensor::empty(c.x), dw_cpu = Tensor::empty(c.w);
    ops::conv2d_forward(x, w, Tensor(), y_cpu, c.params);
    ops::conv2d_backward(x, w, dy, &dx_cpu, dw_cpu, nullptr, c.params);
    const Device gpu = Device::cuda(0);
    Tensor y = poisoned(out, gpu), dx = poisoned(c.x, gpu), dw = poisoned(c.w, gpu);
    ops::conv2d_forward(x.to(gpu), w.to(gpu), Tensor(), y, c.params);
    ops::conv2d_backward(x.to(gpu), w.to(gpu), dy.to(gpu), &dx, dw, nullptr, c.params);
    EXPECT_LE(relative_error(y, y_cpu), kDenseTolerance);
    EXPECT_LE(relative_error(dx, dx_cpu), kDenseTolerance);
    EXPECT_LE(relative_error(dw, dw_cpu), kDenseTolerance);
  }
}

}  // namespace
}  // namespace gcnn::test
