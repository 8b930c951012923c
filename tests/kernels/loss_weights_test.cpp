// Per-target loss weights: a weighted mean worked out by hand, all-one weights
// equal to no weights, a zero weight equal to dropping the target, the
// weighted reference backward against finite differences, and refused weights.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/error.h"
#include "kernels/ops/loss.h"
#include "kernels/reference/loss.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

using ops::LossKind;

constexpr LossKind kKinds[] = {LossKind::MSE, LossKind::RMSE, LossKind::L1, LossKind::Huber};

TEST(LossWeights, TwoByTwoByHand) {
  // d = pred - target = {1, 0, -2, -0.5}: target 0 holds 1 and -2, target 1 holds 0 and -0.5.
  // weights (1, 0.5): denominator N * sum w = 2 * 1.5 = 3.
  const Tensor pred = Tensor::from_vector({2, 2}, {1, 2, 3, 4});
  const Tensor target = Tensor::from_vector({2, 2}, {0, 2, 5, 4.5f});
  const Tensor weights = Tensor::from_vector({2}, {1.0f, 0.5f});
  const double mse = (1 + 0.5 * 0 + 4 + 0.5 * 0.25) / 3;  // 5.125 / 3
  EXPECT_FLOAT_EQ(ops::loss_forward(LossKind::MSE, pred, target, 1.0f, weights), static_cast<float>(mse));
  EXPECT_FLOAT_EQ(ops::loss_forward(LossKind::RMSE, pred, target, 1.0f, weights), static_cast<float>(std::sqrt(mse)));
  EXPECT_FLOAT_EQ(ops::loss_forward(LossKind::L1, pred, target, 1.0f, weights), (1 + 2 + 0.5f * 0.5f) / 3);
  // MSE gradient 2 w d / 3: 2/3, 0, -4/3, 2 * 0.5 * -0.5 / 3 = -1/6.
  Tensor g = poisoned({2, 2});
  ops::loss_backward(LossKind::MSE, pred, target, g, 1.0f, weights);
  const std::vector<double> want{2.0 / 3, 0, -4.0 / 3, -1.0 / 6};
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(g.to_vector()[i], want[i], 1e-7) << i;
}

TEST(LossWeights, OnesEqualNoWeightsAndAZeroDropsATarget) {
  const Tensor pred = random_tensor({9, 2}, 11, -2.0f, 2.0f), target = random_tensor({9, 2}, 12);
  std::vector<float> first_pred, first_target;
  for (std::size_t i = 0; i < 18; i += 2) {
    first_pred.push_back(pred.to_vector()[i]);
    first_target.push_back(target.to_vector()[i]);
  }
  const Tensor p0 = Tensor::from_vector({9, 1}, first_pred), t0 = Tensor::from_vector({9, 1}, first_target);
  for (LossKind kind : kKinds) {
    SCOPED_TRACE(ops::loss_name(kind));
    EXPECT_FLOAT_EQ(ops::loss_forward(kind, pred, target, 0.5f, Tensor::from_vector({2}, {1, 1})),
                    ops::loss_forward(kind, pred, target, 0.5f));
    // weights (3, 0): only target 0 counts, whatever the scale of its weight.
    const Tensor drop = Tensor::from_vector({2}, {3, 0});
    EXPECT_NEAR(ops::loss_forward(kind, pred, target, 0.5f, drop), ops::loss_forward(kind, p0, t0, 0.5f), 1e-6);
    Tensor g = poisoned({9, 2}), g0 = poisoned({9, 1});
    ops::loss_backward(kind, pred, target, g, 0.5f, drop);
    ops::loss_backward(kind, p0, t0, g0, 0.5f);
    for (std::size_t n = 0; n < 9; ++n) {
      EXPECT_NEAR(g.to_vector()[2 * n], g0.to_vector()[n], 1e-6) << n;
      EXPECT_EQ(g.to_vector()[2 * n + 1], 0.0f) << n;
    }
  }
}

TEST(LossWeights, WeightedReferenceBackwardMatchesFiniteDifferences) {
  // Differences kept 0.1 away from the kinks of L1 (0) and Huber (+-delta).
  const Shape shape{5, 3};
  Tensor pred = random_tensor(shape, 3, -2.0f, 2.0f);
  std::vector<float> target = pred.to_vector();
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<float> magnitude(0.1f, 0.8f);
  for (std::size_t i = 0; i < target.size(); ++i)
    target[i] -= (i % 2 ? 1.0f : -1.0f) * (magnitude(rng) + (i % 3 == 0 ? 1.0f : 0.0f));
  const Tensor t = Tensor::from_vector(shape, target), weights = Tensor::from_vector({3}, {1.0f, 0.25f, 2.0f});
  for (LossKind kind : kKinds) {
    SCOPED_TRACE(ops::loss_name(kind));
    Tensor g = Tensor::empty(shape);
    reference::loss_backward(kind, pred, t, g, 1.0f, weights);
    auto loss = [&] { return static_cast<double>(reference::loss_forward(kind, pred, t, 1.0f, weights)); };
    EXPECT_LE(relative_error(g, finite_difference_gradient(loss, pred, 1e-2)), 1e-3);
    EXPECT_NEAR(ops::loss_forward(kind, pred, t, 1.0f, weights), reference::loss_forward(kind, pred, t, 1.0f, weights),
                1e-6);
  }
}

TEST(LossWeights, RefusesWrongShapeNegativeAndAllZeroWeights) {
  const Tensor a = Tensor::zeros({2, 2});
  for (const Tensor& w : {Tensor::from_vector({3}, {1, 1, 1}), Tensor::from_vector({2}, {1, -1}),
                          Tensor::from_vector({2}, {0, 0}), Tensor::from_vector({2}, {1, NAN})})
    EXPECT_THROW(ops::loss_forward(LossKind::MSE, a, a, 1.0f, w), Error) << shape_str(w.shape());
}

}  // namespace
}  // namespace gcnn::test
