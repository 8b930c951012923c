// Batch norm on the CPU: the fast implementation against the reference on
// awkward shapes, the reference backward against finite differences, and the
// running statistics (unbiased variance) by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/error.h"
#include "kernels/ops/batchnorm.h"
#include "kernels/reference/batchnorm.h"
#include "tests/support/layer_op_checks.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

TEST(BatchNormCpu, MatchesReference) { expect_batchnorm_matches_reference(Device::cpu()); }

// y of the reference training forward (running statistics on throwaway copies).
Tensor reference_train_output(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor* mean = nullptr,
                              Tensor* invstd = nullptr) {
  const std::int64_t c = x.dim(1);
  Tensor rm = Tensor::zeros({c}), rv = Tensor::full({c}, 1.0f), y = Tensor::empty(x.shape());
  Tensor m = Tensor::empty({c}), s = Tensor::empty({c});
  reference::batchnorm_forward_train(x, gamma, beta, rm, rv, 0.1f, 1e-5f, y, m, s);
  if (mean) *mean = m;
  if (invstd) *invstd = s;
  return y;
}

TEST(BatchNormReference, BackwardMatchesFiniteDifferences) {
  for (const Shape& shape : std::vector<Shape>{{2, 3, 2, 2}, {5, 4}, {1, 2, 3, 1}}) {
    SCOPED_TRACE("x " + shape_str(shape));
    const std::int64_t c = shape[1];
    Tensor x = random_tensor(shape, 1, -2.0f, 3.0f), gamma = random_tensor({c}, 2, 0.5f, 1.5f);
    Tensor beta = random_tensor({c}, 3);
    const Tensor g = random_tensor(shape, 4);
    Tensor mean, invstd;
    reference_train_output(x, gamma, beta, &mean, &invstd);
    Tensor dx = Tensor::empty(shape), dgamma = Tensor::empty({c}), dbeta = Tensor::empty({c});
    reference::batchnorm_backward(x, gamma, mean, invstd, g, dx, dgamma, dbeta);

    auto loss = [&] { return weighted_sum(reference_train_output(x, gamma, beta), g); };
    EXPECT_LE(relative_error(dx, finite_difference_gradient(loss, x, 1e-3)), 5e-4);
    EXPECT_LE(relative_error(dgamma, finite_difference_gradient(loss, gamma, 1e-3)), 5e-4);
    EXPECT_LE(relative_error(dbeta, finite_difference_gradient(loss, beta, 1e-3)), 5e-4);
  }
}

TEST(BatchNormCpu, RunningStatisticsUseUnbiasedVarianceByHand) {
  // One channel holding {1, 3, 5, 7}: mean 4, biased variance 5, unbiased 20/3.
  const Tensor x = Tensor::from_vector({2, 1, 1, 2}, {1, 3, 5, 7});
  const Tensor gamma = Tensor::from_vector({1}, {2.0f}), beta = Tensor::from_vector({1}, {0.5f});
  Tensor rm = Tensor::from_vector({1}, {1.0f}), rv = Tensor::from_vector({1}, {2.0f});
  Tensor y = poisoned({2, 1, 1, 2}), mean = poisoned({1}), invstd = poisoned({1});
  ops::batchnorm_forward_train(x, gamma, beta, rm, rv, 0.25f, 1e-5f, y, mean, invstd);
  EXPECT_FLOAT_EQ(mean.to_vector()[0], 4.0f);
  EXPECT_FLOAT_EQ(invstd.to_vector()[0], static_cast<float>(1.0 / std::sqrt(5.0 + 1e-5)));
  EXPECT_FLOAT_EQ(rm.to_vector()[0], 0.75f * 1.0f + 0.25f * 4.0f);
  EXPECT_FLOAT_EQ(rv.to_vector()[0], static_cast<float>(0.75 * 2.0 + 0.25 * 20.0 / 3.0));
  const float s = static_cast<float>(2.0 / std::sqrt(5.0 + 1e-5));
  const std::vector<float> y_expected = {-3 * s + 0.5f, -s + 0.5f, s + 0.5f, 3 * s + 0.5f};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y.to_vector()[i], y_expected[i], 1e-5f) << i;
}

TEST(BatchNormCpu, EvalUsesRunningStatisticsByHand) {
  const Tensor x = Tensor::from_vector({1, 2}, {3.0f, -1.0f});
  Tensor y = poisoned({1, 2});
  ops::batchnorm_forward_eval(x, Tensor::from_vector({2}, {2.0f, 1.0f}), Tensor::from_vector({2}, {1.0f, 0.0f}),
                              Tensor::from_vector({2}, {1.0f, 1.0f}), Tensor::from_vector({2}, {4.0f, 0.25f}), 0.0f + 1e-12f,
                              y);
  EXPECT_NEAR(y.to_vector()[0], (3.0f - 1.0f) / 2.0f * 2.0f + 1.0f, 1e-5f);
  EXPECT_NEAR(y.to_vector()[1], (-1.0f - 1.0f) / 0.5f, 1e-5f);
}

TEST(BatchNormCpu, RejectsBadShapesAndSingleValueChannels) {
  Tensor c3 = Tensor::zeros({3}), c2 = Tensor::zeros({2});
  Tensor one = Tensor::zeros({1, 3, 1, 1}), y = Tensor::zeros({1, 3, 1, 1});
  EXPECT_THROW(ops::batchnorm_forward_train(one, c3, c3, c3, c3, 0.1f, 1e-5f, y, c3, c3), Error);
  Tensor x = Tensor::zeros({2, 3, 2, 2}), yx = Tensor::zeros({2, 3, 2, 2});
  EXPECT_THROW(ops::batchnorm_forward_train(x, c2, c3, c3, c3, 0.1f, 1e-5f, yx, c3, c3), Error);
  Tensor x3 = Tensor::zeros({2, 3, 4});
  EXPECT_THROW(ops::batchnorm_forward_eval(x3, c3, c3, c3, c3, 1e-5f, x3), Error);
}

}  // namespace
}  // namespace gcnn::test
