// Dropout on the CPU: bit-identical to the reference, the kept fraction and
// scale, seeds, the backward against finite differences, and bad p.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/error.h"
#include "kernels/ops/dropout.h"
#include "kernels/reference/dropout.h"
#include "tests/support/layer_op_checks.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

TEST(DropoutCpu, MatchesReference) { expect_dropout_matches_reference(Device::cpu()); }

TEST(DropoutCpu, KeepsAboutOneMinusPScaledAndDependsOnTheSeed) {
  const std::int64_t n = 200000;
  const Tensor x = Tensor::full({n}, 1.0f);
  Tensor mask = poisoned({n}), y = poisoned({n}), other_mask = poisoned({n}), again = poisoned({n});
  ops::dropout_forward(x, 0.3f, 42, mask, y);
  std::int64_t kept = 0;
  for (float m : mask.to_vector()) {
    ASSERT_TRUE(m == 0.0f || m == 1.0f / 0.7f) << m;
    kept += m != 0.0f;
  }
  // Binomial(200000, 0.7): standard deviation 205, so 6 sigma is about 0.006.
  EXPECT_NEAR(static_cast<double>(kept) / n, 0.7, 0.006);
  ops::dropout_forward(x, 0.3f, 42, again, y);
  EXPECT_EQ(again.to_vector(), mask.to_vector());
  ops::dropout_forward(x, 0.3f, 43, other_mask, y);
  EXPECT_NE(other_mask.to_vector(), mask.to_vector());
}

TEST(DropoutReference, BackwardMatchesFiniteDifferences) {
  Tensor x = random_tensor({3, 7}, 1);
  const Tensor g = random_tensor({3, 7}, 2);
  Tensor mask = Tensor::empty({3, 7}), y = Tensor::empty({3, 7}), dx = Tensor::empty({3, 7});
  reference::dropout_forward(x, 0.4f, 9, mask, y);
  reference::dropout_backward(g, mask, dx);
  auto loss = [&] {
    Tensor m = Tensor::empty({3, 7}), out = Tensor::empty({3, 7});
    reference::dropout_forward(x, 0.4f, 9, m, out);
    return weighted_sum(out, g);
  };
  EXPECT_LE(relative_error(dx, finite_difference_gradient(loss, x)), 1e-4);
}

TEST(DropoutCpu, RejectsProbabilityOutsideZeroOne) {
  Tensor x = Tensor::zeros({4}), m = Tensor::zeros({4}), y = Tensor::zeros({4});
  EXPECT_THROW(ops::dropout_forward(x, -0.1f, 1, m, y), Error);
  EXPECT_THROW(ops::dropout_forward(x, 1.5f, 1, m, y), Error);
  EXPECT_THROW(ops::dropout_forward(x, std::nanf(""), 1, m, y), Error);
}

}  // namespace
}  // namespace gcnn::test
