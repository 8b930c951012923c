// Linked against the real library (CUDA from nvcc when compiled in): without a
// GPU, "auto" must fall back to the CPU with a one-line reason; with one, the
// real CUDA ops must match the CPU backend.
#include <gtest/gtest.h>

#include "kernels/cuda/backend.h"
#include "kernels/device.h"
#include "kernels/error.h"
#include "kernels/ops/activation.h"
#include "kernels/ops/reduction.h"
#include "tests/support/test_support.h"

namespace gcnn {
namespace {

TEST(CudaFallback, AutoUsesTheCpuWhenNoDeviceIsUsable) {
  std::string why = cuda_unavailable_reason();
  if (why.empty()) GTEST_SKIP() << "a CUDA device is present: nothing falls back";
  EXPECT_EQ(why.find('\n'), std::string::npos) << "reason must be one line: " << why;
  if (cuda::compiled_with_nvcc()) {
    EXPECT_NE(why.find("no usable device"), std::string::npos) << why;
  } else {
    EXPECT_NE(why.find("not compiled in"), std::string::npos) << why;
  }
  Device d = parse_device("auto");
  EXPECT_TRUE(d.is_cpu());
  Tensor x = Tensor::from_vector({3}, {-1, 0.5f, 2}, d);
  Tensor y = Tensor::empty({3}, d);
  ops::relu_forward(x, y);
  EXPECT_EQ(y.to_vector(), (std::vector<float>{0, 0.5f, 2}));
  EXPECT_THROW(parse_device("cuda"), Error);
}

class RealGpu : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = cuda_unavailable_reason();
    if (!why.empty()) GTEST_SKIP() << "no CUDA device: " << why;
  }
};

TEST_F(RealGpu, ReluMatchesCpu) {
  Tensor x = test::random_tensor({3, 1001}, 1), dy = test::random_tensor({3, 1001}, 2);
  Tensor y = Tensor::empty(x.shape()), dx = Tensor::empty(x.shape());
  ops::relu_forward(x, y);
  ops::relu_backward(y, dy, dx);
  Tensor yd = Tensor::empty(x.shape(), Device::cuda(0)), dxd = Tensor::empty(x.shape(), Device::cuda(0));
  ops::relu_forward(x.to(Device::cuda(0)), yd);
  ops::relu_backward(yd, dy.to(Device::cuda(0)), dxd);
  EXPECT_EQ(yd.to_vector(), y.to_vector());
  EXPECT_EQ(dxd.to_vector(), dx.to_vector());
}

TEST_F(RealGpu, ChannelSumMatchesCpu) {
  Tensor x = test::random_tensor({5, 33, 17, 19}, 3);
  Tensor cpu_out = Tensor::empty({33}), gpu_out = Tensor::empty({33}, Device::cuda(0));
  ops::channel_sum(x, cpu_out);
  ops::channel_sum(x.to(Device::cuda(0)), gpu_out);
  auto a = cpu_out.to_vector(), b = gpu_out.to_vector();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-3f * (1 + std::abs(a[i])));
}

}  // namespace
}  // namespace gcnn
