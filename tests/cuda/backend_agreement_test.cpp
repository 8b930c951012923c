// The whole CUDA backend under emulation against the CPU backend: a small
// network's forward, backward and SGD steps on both must leave the same
// parameters and running statistics (relative error <= 1e-4).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/cuda/emulation/control.h"
#include "tests/support/small_network_step.h"
#include "tests/support/test_support.h"

namespace gcnn {
namespace {

using test::relative_error;

TEST(BackendAgreement, SmallNetworkTrainingStepsMatchTheCpu) {
  const int n = 3, channels = 3, size = 9, width = 5, targets = 2;
  std::mt19937 rng(42);
  std::normal_distribution<float> dist;
  std::vector<float> xv(n * channels * size * size), tv(n * targets);
  for (auto& v : xv) v = dist(rng);
  for (auto& v : tv) v = dist(rng);
  Tensor x = Tensor::from_vector({n, channels, size, size}, xv);
  Tensor target = Tensor::from_vector({n, targets}, tv);

  auto cpu = test::make_small_network(Device::cpu(), channels, width, targets, 7);
  auto gpu = test::make_small_network(Device::cuda(0), channels, width, targets, 7);
  Tensor xd = x.to(Device::cuda(0)), td = target.to(Device::cuda(0));
  auto launches = emu::launch_count();
  for (int step = 0; step < 3; ++step) {
    float loss_cpu = test::small_network_step(cpu, x, target, 0.05f);
    float loss_gpu = test::small_network_step(gpu, xd, td, 0.05f);
    EXPECT_NEAR(loss_gpu, loss_cpu, 1e-4f * std::abs(loss_cpu)) << "step " << step;
  }
  EXPECT_GT(emu::launch_count(), launches) << "no emulated kernel ran";
  for (auto& [name, t] : cpu.params) {
    EXPECT_TRUE(gpu.params[name].device().is_cuda());
    EXPECT_LT(relative_error(gpu.params[name], t), 1e-4) << name;
  }
  for (auto& [name, t] : cpu.buffers) EXPECT_LT(relative_error(gpu.buffers[name], t), 1e-4) << name;
}

}  // namespace
}  // namespace gcnn
