// Pooling on the CPU: the fast implementation against the reference (with and
// without tied maxima), the reference backwards against finite differences,
// output shapes and a hand-computed max pool with ties.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

#include "kernels/error.h"
#include "kernels/ops/pooling.h"
#include "kernels/reference/pooling.h"
#include "tests/support/layer_op_checks.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

TEST(PoolingCpu, MatchesReference) { expect_pooling_matches_reference(Device::cpu()); }

// Distinct values 0.05 apart in shuffled order: a finite-difference step of
// 0.01 never changes which element is a maximum.
Tensor distinct_tensor(const Shape& shape, std::uint64_t seed) {
  std::vector<float> v(static_cast<std::size_t>(shape_numel(shape)));
  std::iota(v.begin(), v.end(), 0.0f);
  std::shuffle(v.begin(), v.end(), std::mt19937_64(seed));
  for (float& e : v) e = e * 0.05f - 1.0f;
  return Tensor::from_vector(shape, v);
}

TEST(PoolingReference, MaxPoolBackwardMatchesFiniteDifferences) {
  for (const ops::Pool2dParams& p : {ops::Pool2dParams{}, ops::Pool2dParams{3, 2, 1, 2, 1, 0}}) {
    Tensor x = distinct_tensor({2, 2, 5, 6}, 1);
    const Shape ys = ops::pool2d_output_shape(x.shape(), p);
    const Tensor g = random_tensor(ys, 2);
    Tensor dx = Tensor::empty(x.shape());
    reference::maxpool2d_backward(x, g, dx, p);
    auto loss = [&] {
      Tensor y = Tensor::empty(ys);
      reference::maxpool2d_forward(x, y, p);
      return weighted_sum(y, g);
    };
    EXPECT_LE(relative_error(dx, finite_difference_gradient(loss, x)), 1e-4);
  }
}

TEST(PoolingReference, GlobalPoolBackwardsMatchFiniteDifferences) {
  Tensor x = distinct_tensor({2, 3, 3, 5}, 3);
  const Tensor g = random_tensor({2, 3}, 4), g2 = random_tensor({2, 6}, 5);
  auto loss_of = [&](auto forward, const Tensor& weights) {
    return [&x, &weights, forward] {
      Tensor y = Tensor::empty(weights.shape());
      forward(x, y);
      return weighted_sum(y, weights);
    };
  };
  Tensor dx = Tensor::empty(x.shape());
  reference::global_avgpool_backward(g, dx);
  EXPECT_LE(relative_error(dx, finite_difference_gradient(loss_of(reference::global_avgpool_forward, g), x)), 1e-4);
  reference::global_maxpool_backward(x, g, dx);
  EXPECT_LE(relative_error(dx, finite_difference_gradient(loss_of(reference::global_maxpool_forward, g), x)), 1e-4);
  reference::concat_pool_backward(x, g2, dx);
  EXPECT_LE(relative_error(dx, finite_difference_gradient(loss_of(reference::concat_pool_forward, g2), x)), 1e-4);
}

TEST(PoolingCpu, MaxPoolWithTiesByHand) {
  // 1 x 1 x 2 x 4, kernel 2, stride 2: windows {1, 5 | 5, 2} and {5, 0 | 3, 5}.
  const Tensor x = Tensor::from_vector({1, 1, 2, 4}, {1, 5, 5, 0, 5, 2, 3, 5});
  const ops::Pool2dParams p{2, 2, 2, 2, 0, 0};
  Tensor y = poisoned({1, 1, 1, 2}), dx = poisoned({1, 1, 2, 4});
  ops::maxpool2d_forward(x, y, p);
  EXPECT_EQ(y.to_vector(), (std::vector<float>{5, 5}));
  ops::maxpool2d_backward(x, Tensor::from_vector({1, 1, 1, 2}, {10, 20}), dx, p);
  // The first maximum in row-major window order takes the gradient.
  EXPECT_EQ(dx.to_vector(), (std::vector<float>{0, 10, 20, 0, 0, 0, 0, 0}));
}

TEST(PoolingCpu, MaxPoolOfMinusInfinityRoutesToTheFirstTap) {
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor x = Tensor::from_vector({1, 1, 2, 2}, {-inf, -inf, -inf, -inf});
  const ops::Pool2dParams p{2, 2, 2, 2, 0, 0};
  Tensor y = poisoned({1, 1, 1, 1}), dx = poisoned({1, 1, 2, 2});
  ops::maxpool2d_forward(x, y, p);
  EXPECT_EQ(y.to_vector(), (std::vector<float>{-inf}));
  ops::maxpool2d_backward(x, Tensor::from_vector({1, 1, 1, 1}, {7}), dx, p);
  EXPECT_EQ(dx.to_vector(), (std::vector<float>{7, 0, 0, 0}));
}

TEST(PoolingCpu, ConcatPoolByHand) {
  const Tensor x = Tensor::from_vector({1, 2, 1, 3}, {1, 4, 4, -3, -1, -2});
  Tensor y = poisoned({1, 4}), dx = poisoned({1, 2, 1, 3});
  ops::concat_pool_forward(x, y);
  EXPECT_EQ(y.to_vector(), (std::vector<float>{4, -1, 3, -2}));  // max c0, max c1, mean c0, mean c1
  ops::concat_pool_backward(x, Tensor::from_vector({1, 4}, {3, 6, 9, 12}), dx);
  EXPECT_EQ(dx.to_vector(), (std::vector<float>{3, 6, 3, 4, 10, 4}));
}

TEST(PoolingCpu, OutputShapeAndErrors) {
  EXPECT_EQ(ops::pool2d_output_shape({32, 64, 64, 64}, {}), (Shape{32, 64, 32, 32}));
  EXPECT_EQ(ops::pool2d_output_shape({1, 1, 1, 1}, {}), (Shape{1, 1, 1, 1}));
  EXPECT_EQ(ops::pool2d_output_shape({2, 3, 7, 9}, {3, 2, 1, 2, 1, 0}), (Shape{2, 3, 7, 4}));
  EXPECT_THROW(ops::pool2d_output_shape({1, 1, 4, 4}, {3, 3, 2, 2, 2, 2}), Error);  // padding > kernel / 2
  EXPECT_THROW(ops::pool2d_output_shape({1, 1, 1, 1}, {3, 3, 1, 1, 0, 0}), Error);  // smaller than the kernel
  EXPECT_THROW(ops::pool2d_output_shape({1, 4, 4}, {}), Error);
  Tensor x = Tensor::zeros({2, 3, 4, 4}), wrong = Tensor::zeros({2, 3, 3, 3});
  EXPECT_THROW(ops::maxpool2d_forward(x, wrong, {}), Error);
  Tensor y = Tensor::zeros({2, 3});
  EXPECT_THROW(ops::concat_pool_forward(x, y), Error);  // needs [2, 6]
}

}  // namespace
}  // namespace gcnn::test
