// Regression losses on the CPU: against the reference, values and gradients on
// a 2x2 example by hand, the reference backward against finite differences,
// and loss names.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/error.h"
#include "kernels/ops/loss.h"
#include "kernels/reference/loss.h"
#include "tests/support/layer_op_checks.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

using ops::LossKind;

TEST(LossCpu, MatchesReference) { expect_loss_matches_reference(Device::cpu()); }

TEST(LossCpu, OnDeviceMatchesReference) { expect_device_loss_matches_reference(Device::cpu()); }

TEST(LossCpu, TwoByTwoByHand) {
  // d = pred - target = {1, 0, -2, -0.5}.
  const Tensor pred = Tensor::from_vector({2, 2}, {1, 2, 3, 4});
  const Tensor target = Tensor::from_vector({2, 2}, {0, 2, 5, 4.5f});
  const double mse = (1 + 0 + 4 + 0.25) / 4.0, rmse = std::sqrt(mse);
  EXPECT_FLOAT_EQ(ops::loss_forward(LossKind::MSE, pred, target), static_cast<float>(mse));
  EXPECT_FLOAT_EQ(ops::loss_forward(LossKind::RMSE, pred, target), static_cast<float>(rmse));
  EXPECT_FLOAT_EQ(ops::loss_forward(LossKind::L1, pred, target), 0.875f);
  // Huber, delta 1: 0.5, 0, 1 * (2 - 0.5), 0.125.
  EXPECT_FLOAT_EQ(ops::loss_forward(LossKind::Huber, pred, target), 2.125f / 4);
  // Huber, delta 0.25: 0.25 * (1 - 0.125), 0, 0.25 * (2 - 0.125), 0.25 * (0.5 - 0.125).
  EXPECT_FLOAT_EQ(ops::loss_forward(LossKind::Huber, pred, target, 0.25f), 0.25f * (0.875f + 1.875f + 0.375f) / 4);

  auto grad = [&](LossKind kind, float delta = 1.0f) {
    Tensor g = poisoned({2, 2});
    ops::loss_backward(kind, pred, target, g, delta);
    return g.to_vector();
  };
  auto expect_near = [](const std::vector<float>& got, const std::vector<double>& want) {
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-7) << i;
  };
  expect_near(grad(LossKind::MSE), {0.5, 0, -1, -0.25});
  expect_near(grad(LossKind::RMSE), {1 / (4 * rmse), 0, -2 / (4 * rmse), -0.5 / (4 * rmse)});
  expect_near(grad(LossKind::L1), {0.25, 0, -0.25, -0.25});
  expect_near(grad(LossKind::Huber), {0.25, 0, -0.25, -0.125});
  expect_near(grad(LossKind::Huber, 0.25f), {0.0625, 0, -0.0625, -0.0625});
}

TEST(LossCpu, RmseGradientIsZeroAtAPerfectFit) {
  const Tensor pred = Tensor::from_vector({1, 2}, {1, 2});
  Tensor g = poisoned({1, 2});
  ops::loss_backward(LossKind::RMSE, pred, pred, g);
  EXPECT_EQ(g.to_vector(), (std::vector<float>{0, 0}));
  EXPECT_EQ(ops::loss_forward(LossKind::RMSE, pred, pred), 0.0f);
}

TEST(LossReference, BackwardMatchesFiniteDifferences) {
  // Differences kept 0.1 away from the kinks of L1 (0) and Huber (+-delta).
  const Shape shape{5, 3};
  Tensor pred = random_tensor(shape, 1, -2.0f, 2.0f);
  std::vector<float> target = pred.to_vector();
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<float> magnitude(0.1f, 0.8f);
  for (std::size_t i = 0; i < target.size(); ++i)
    target[i] -= (i % 2 ? 1.0f : -1.0f) * (magnitude(rng) + (i % 3 == 0 ? 1.0f : 0.0f));
  const Tensor t = Tensor::from_vector(shape, target);
  for (LossKind kind : {LossKind::MSE, LossKind::RMSE, LossKind::L1, LossKind::Huber}) {
    SCOPED_TRACE(ops::loss_name(kind));
    Tensor g = Tensor::empty(shape);
    reference::loss_backward(kind, pred, t, g);
    auto loss = [&] { return static_cast<double>(reference::loss_forward(kind, pred, t)); };
    EXPECT_LE(relative_error(g, finite_difference_gradient(loss, pred, 1e-2)), 1e-3);
  }
}

TEST(LossCpu, ParsesNamesAndListsChoices) {
  EXPECT_EQ(ops::parse_loss("mse"), LossKind::MSE);
  EXPECT_EQ(ops::parse_loss("rmse"), LossKind::RMSE);
  EXPECT_EQ(ops::parse_loss("l1"), LossKind::L1);
  EXPECT_EQ(ops::parse_loss("huber"), LossKind::Huber);
  try {
    ops::parse_loss("cross_entropy");
    FAIL() << "parse_loss accepted an unknown name";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'cross_entropy'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("mse, rmse, l1, huber"), std::string::npos) << e.what();
  }
}

TEST(LossCpu, RejectsBadInputs) {
  const Tensor a = Tensor::zeros({2, 2}), b = Tensor::zeros({2, 3}), flat = Tensor::zeros({4});
  EXPECT_THROW(ops::loss_forward(LossKind::MSE, a, b), Error);
  EXPECT_THROW(ops::loss_forward(LossKind::MSE, flat, flat), Error);
  EXPECT_THROW(ops::loss_forward(LossKind::Huber, a, a, 0.0f), Error);
}

}  // namespace
}  // namespace gcnn::test
