// The SGD update on the CPU: against the reference for plain, momentum, weight
// decay and nesterov settings, and two nesterov steps by hand.
#include <gtest/gtest.h>

#include "kernels/error.h"
#include "kernels/ops/sgd.h"
#include "tests/support/layer_op_checks.h"

namespace gcnn::test {
namespace {

TEST(SgdCpu, MatchesReference) { expect_sgd_matches_reference(Device::cpu()); }

TEST(SgdCpu, TwoNesterovStepsByHand) {
  // lr 0.1, momentum 0.9, weight decay 0.1, param 1, grad 0.5 twice:
  // step 1: d = 0.5 + 0.1 = 0.6, buf = 0.6, d = 0.6 + 0.9 * 0.6 = 1.14, param = 0.886
  // step 2: d = 0.5 + 0.0886 = 0.5886, buf = 0.54 + 0.5886 = 1.1286,
  //         d = 0.5886 + 0.9 * 1.1286 = 1.60434, param = 0.886 - 0.160434 = 0.725566
  Tensor param = Tensor::from_vector({1}, {1.0f}), buf = Tensor::zeros({1});
  const Tensor grad = Tensor::from_vector({1}, {0.5f});
  ops::sgd_update(param, grad, buf, 0.1f, 0.9f, 0.1f, true);
  EXPECT_NEAR(param.to_vector()[0], 0.886f, 1e-6f);
  EXPECT_NEAR(buf.to_vector()[0], 0.6f, 1e-6f);
  ops::sgd_update(param, grad, buf, 0.1f, 0.9f, 0.1f, true);
  EXPECT_NEAR(param.to_vector()[0], 0.725566f, 1e-6f);
  EXPECT_NEAR(buf.to_vector()[0], 1.1286f, 1e-6f);
}

TEST(SgdCpu, PlainMomentumStepByHand) {
  // Without nesterov the step is lr * buf: buf = 0.9 * 2 + 1 = 2.8, param = 3 - 0.5 * 2.8.
  Tensor param = Tensor::from_vector({1}, {3.0f}), buf = Tensor::from_vector({1}, {2.0f});
  ops::sgd_update(param, Tensor::from_vector({1}, {1.0f}), buf, 0.5f, 0.9f, 0.0f, false);
  EXPECT_NEAR(param.to_vector()[0], 1.6f, 1e-6f);
  EXPECT_NEAR(buf.to_vector()[0], 2.8f, 1e-6f);
}

TEST(SgdCpu, RejectsBadSettings) {
  Tensor p = Tensor::zeros({3}), g = Tensor::zeros({3}), b = Tensor::zeros({3}), wrong = Tensor::zeros({4});
  EXPECT_THROW(ops::sgd_update(p, wrong, b, 0.1f, 0.9f, 0.0f, false), Error);
  EXPECT_THROW(ops::sgd_update(p, g, b, -0.1f, 0.9f, 0.0f, false), Error);
  EXPECT_THROW(ops::sgd_update(p, g, b, 0.1f, 0.0f, 0.0f, true), Error);
}

}  // namespace
}  // namespace gcnn::test
