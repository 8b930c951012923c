// Elementwise arithmetic on the CPU against the reference (including the
// aliased residual add), and shape errors.
#include <gtest/gtest.h>

#include "kernels/error.h"
#include "kernels/ops/elementwise.h"
#include "tests/support/layer_op_checks.h"

namespace gcnn::test {
namespace {

TEST(ElementwiseCpu, MatchesReference) { expect_elementwise_matches_reference(Device::cpu()); }

TEST(ElementwiseCpu, ByHandAndShapeErrors) {
  Tensor a = Tensor::from_vector({3}, {1, 2, 3}), b = Tensor::from_vector({3}, {10, 20, 30});
  ops::accumulate(a, b);
  EXPECT_EQ(a.to_vector(), (std::vector<float>{11, 22, 33}));
  ops::scale(a, 0.5f, a);
  EXPECT_EQ(a.to_vector(), (std::vector<float>{5.5f, 11, 16.5f}));
  Tensor wrong = Tensor::zeros({4});
  EXPECT_THROW(ops::add(a, b, wrong), Error);
  EXPECT_THROW(ops::accumulate(wrong, b), Error);
}

}  // namespace
}  // namespace gcnn::test
