// On a GPU machine: the real CUDA backend (cuDNN, cuBLAS, our kernels) against
// the CPU backend on a small network's training steps, and on the ops the
// network does not use. Skips with the reason when no device is present.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/device.h"
#include "kernels/ops/batchnorm.h"
#include "kernels/ops/dropout.h"
#include "kernels/ops/loss.h"
#include "kernels/ops/pooling.h"
#include "tests/support/small_network_step.h"
#include "tests/support/test_support.h"

namespace gcnn {
namespace {

using test::relative_error;

Tensor random(const Shape& shape, unsigned seed) { return test::random_tensor(shape, seed, -2.0f, 2.0f); }

class RealGpuBackend : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = cuda_unavailable_reason();
    if (!why.empty()) GTEST_SKIP() << "no CUDA device: " << why;
  }
};

TEST_F(RealGpuBackend, SmallNetworkTrainingStepsMatchTheCpu) {
  Tensor x = random({4, 3, 33, 33}, 1), target = random({4, 2}, 2);
  auto cpu = test::make_small_network(Device::cpu(), 3, 16, 2, 7);
  auto gpu = test::make_small_network(Device::cuda(0), 3, 16, 2, 7);
  Tensor xd = x.to(Device::cuda(0)), td = target.to(Device::cuda(0));
  for (int step = 0; step < 3; ++step) {
    float a = test::small_network_step(cpu, x, target, 0.05f);
    float b = test::small_network_step(gpu, xd, td, 0.05f);
    EXPECT_NEAR(b, a, 1e-4f * std::abs(a)) << "step " << step;
  }
  for (auto& [name, t] : cpu.params) EXPECT_LT(relative_error(gpu.params[name], t), 1e-4) << name;
  for (auto& [name, t] : cpu.buffers) EXPECT_LT(relative_error(gpu.buffers[name], t), 1e-4) << name;
}

TEST_F(RealGpuBackend, EvalBatchnormDropoutAndLossesMatchTheCpu) {
  const Device dev = Device::cuda(0);
  Tensor x = random({5, 7, 6, 6}, 3), gamma = random({7}, 4), beta = random({7}, 5), mean = random({7}, 6);
  Tensor var = Tensor::full({7}, 1.5f);
  Tensor y = Tensor::empty(x.shape()), yd = Tensor::empty(x.shape(), dev);
  ops::batchnorm_forward_eval(x, gamma, beta, mean, var, 1e-5f, y);
  ops::batchnorm_forward_eval(x.to(dev), gamma.to(dev), beta.to(dev), mean.to(dev), var.to(dev), 1e-5f, yd);
  EXPECT_LT(relative_error(yd, y), 1e-4);

  Tensor mask = Tensor::empty(x.shape()), maskd = Tensor::empty(x.shape(), dev);
  ops::dropout_forward(x, 0.3f, 1234, mask, y);
  ops::dropout_forward(x.to(dev), 0.3f, 1234, maskd, yd);
  EXPECT_EQ(maskd.to_vector(), mask.to_vector());
  EXPECT_LT(relative_error(yd, y), 1e-6);

  Tensor pred = random({9, 2}, 7), target = random({9, 2}, 8);
  for (auto kind : {ops::LossKind::MSE, ops::LossKind::RMSE, ops::LossKind::L1, ops::LossKind::Huber}) {
    float a = ops::loss_forward(kind, pred, target);
    float b = ops::loss_forward(kind, pred.to(dev), target.to(dev));
    EXPECT_NEAR(b, a, 1e-5f * (1 + std::abs(a)));
    Tensor g = Tensor::empty(pred.shape()), gd = Tensor::empty(pred.shape(), dev);
    ops::loss_backward(kind, pred, target, g);
    ops::loss_backward(kind, pred.to(dev), target.to(dev), gd);
    EXPECT_LT(relative_error(gd, g), 1e-5);
  }
}

}  // namespace
}  // namespace gcnn
