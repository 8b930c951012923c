// The AdamW update on the CPU: against the reference (several tensors,
// settings and step counts), three steps worked out by hand, the decoupled
// weight decay alone, and refused settings.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/error.h"
#include "kernels/ops/adamw.h"
#include "tests/support/adamw_checks.h"

namespace gcnn::test {
namespace {

TEST(AdamWCpu, MatchesReference) { expect_adamw_matches_reference(Device::cpu()); }

TEST(AdamWCpu, ManyTensorsInOneCallMatchReference) { expect_adamw_many_tensors_match_reference(Device::cpu(), 50); }

TEST(AdamWCpu, ThreeStepsByHand) {
  // lr 0.1, betas (0.9, 0.999), eps 1e-8, weight decay 0.1, param 1, grads 0.5, -0.25, 1:
  // step 1: param = 1 * (1 - 0.01) = 0.99; m = 0.05; v = 0.001 * 0.25 = 0.00025;
  //         m / (1 - 0.9) = 0.5, sqrt(v / (1 - 0.999)) = 0.5; param = 0.99 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.890000002
  // step 2: param = 0.890000002 * 0.99 = 0.88110000198; m = 0.045 - 0.025 = 0.02;
  //         v = 0.999 * 0.00025 + 0.001 * 0.0625 = 0.00031225; m / 0.19 = 0.105263158,
  //         sqrt(v / 0.001999) = 0.395225381; param = 0.881100002 - 0.1 * 0.266337 = 0.854466299
  // step 3: param = 0.854466299 * 0.99 = 0.845921636; m = 0.018 + 0.1 = 0.118;
  //         v = 0.999 * 0.00031225 + 0.001 = 0.00131193775; m / 0.271 = 0.435424354,
  //         sqrt(v / 0.002997001) = 0.661626925; param = 0.845921636 - 0.1 * 0.658112 = 0.780110477
  Tensor param = Tensor::from_vector({1}, {1.0f}), m = Tensor::zeros({1}), v = Tensor::zeros({1});
  const float grads[] = {0.5f, -0.25f, 1.0f};
  const float want_param[] = {0.890000002f, 0.854466299f, 0.780110477f};
  const float want_m[] = {0.05f, 0.02f, 0.118f}, want_v[] = {0.00025f, 0.00031225f, 0.00131193775f};
  for (int step = 1; step <= 3; ++step) {
    const Tensor grad = Tensor::from_vector({1}, {grads[step - 1]});
    const ops::AdamWTensor t{&param, &grad, &m, &v, 0.1f, 0.1f, step};
    ops::adamw_update({&t, 1}, {0.9, 0.999, 1e-8});
    EXPECT_NEAR(param.to_vector()[0], want_param[step - 1], 2e-7f) << "step " << step;
    EXPECT_NEAR(m.to_vector()[0], want_m[step - 1], 2e-7f * want_m[step - 1]) << "step " << step;
    EXPECT_NEAR(v.to_vector()[0], want_v[step - 1], 2e-7f * want_v[step - 1]) << "step " << step;
  }
}

TEST(AdamWCpu, ZeroGradientsLeaveOnlyTheDecoupledDecay) {
  // With zero gradients the moments stay 0 and the Adam term 0 / (0 + eps) vanishes:
  // two steps multiply the parameter by (1 - lr * wd)^2 = 0.98^2 = 0.9604.
  Tensor param = Tensor::from_vector({2}, {2.0f, -1.0f}), m = Tensor::zeros({2}), v = Tensor::zeros({2});
  const Tensor grad = Tensor::zeros({2});
  for (int step = 1; step <= 2; ++step) {
    const ops::AdamWTensor t{&param, &grad, &m, &v, 0.2f, 0.1f, step};
    ops::adamw_update({&t, 1}, {0.9, 0.999, 1e-8});
  }
  EXPECT_NEAR(param.to_vector()[0], 2.0f * 0.9604f, 1e-6f);
  EXPECT_NEAR(param.to_vector()[1], -0.9604f, 1e-6f);
}

TEST(AdamWCpu, RefusesBadSettings) {
  Tensor p = Tensor::zeros({3}), g = Tensor::zeros({3}), m = Tensor::zeros({3}), v = Tensor::zeros({3}),
         wrong = Tensor::zeros({4});
  auto update = [&](const ops::AdamWTensor& t, const ops::AdamWBetas& b) { ops::adamw_update({&t, 1}, b); };
  const ops::AdamWBetas ok{0.9, 0.999, 1e-8};
  EXPECT_THROW(update({&p, &wrong, &m, &v, 0.1f, 0.0f, 1}, ok), Error);
  EXPECT_THROW(update({&p, &g, &m, &wrong, 0.1f, 0.0f, 1}, ok), Error);
  EXPECT_THROW(update({&p, &g, &m, &v, -0.1f, 0.0f, 1}, ok), Error);
  EXPECT_THROW(update({&p, &g, &m, &v, 0.1f, 0.0f, 0}, ok), Error);  // steps count from 1
  EXPECT_THROW(update({&p, &g, &m, &v, 0.1f, 0.0f, 1}, {1.0, 0.999, 1e-8}), Error);
  EXPECT_THROW(update({&p, &g, &m, &v, 0.1f, 0.0f, 1}, {0.9, 0.999, 0.0}), Error);
}

}  // namespace
}  // namespace gcnn::test
