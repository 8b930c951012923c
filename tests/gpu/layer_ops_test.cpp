// The layer ops' custom CUDA kernels on a real GPU, against the reference:
// the same device-generic cases the CPU and emulation tests run. Skips with
// the reason when no CUDA device is usable.
#include <gtest/gtest.h>

#include <string>

#include "kernels/device.h"
#include "tests/support/adamw_checks.h"
#include "tests/support/layer_op_checks.h"

namespace gcnn::test {
namespace {

class LayerOpsGpu : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = cuda_unavailable_reason();
    if (!why.empty()) GTEST_SKIP() << why;
  }
};

TEST_F(LayerOpsGpu, BatchNormMatchesReference) { expect_batchnorm_matches_reference(Device::cuda(0)); }
TEST_F(LayerOpsGpu, PoolingMatchesReference) { expect_pooling_matches_reference(Device::cuda(0)); }
TEST_F(LayerOpsGpu, ElementwiseMatchesReference) { expect_elementwise_matches_reference(Device::cuda(0)); }
TEST_F(LayerOpsGpu, DropoutMatchesReference) { expect_dropout_matches_reference(Device::cuda(0)); }
TEST_F(LayerOpsGpu, LossMatchesReference) { expect_loss_matches_reference(Device::cuda(0)); }
TEST_F(LayerOpsGpu, DeviceLossMatchesReference) { expect_device_loss_matches_reference(Device::cuda(0)); }
TEST_F(LayerOpsGpu, SgdMatchesReference) { expect_sgd_matches_reference(Device::cuda(0)); }
TEST_F(LayerOpsGpu, AdamWMatchesReference) {
  expect_adamw_matches_reference(Device::cuda(0));
  expect_adamw_many_tensors_match_reference(Device::cuda(0), 100);
}

}  // namespace
}  // namespace gcnn::test
