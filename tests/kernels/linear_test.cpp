// linear on the CPU (OpenBLAS) against the reference, the reference's backward
// against central finite differences, and the shape checks of the public API.
#include <gtest/gtest.h>

#include "kernels/error.h"
#include "kernels/ops/linear.h"
#include "kernels/reference/linear.h"
#include "tests/support/dense_op_checks.h"
#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

TEST(Linear, HandComputed) {
  const Tensor x = Tensor::from_vector({1, 2}, {1.0f, 2.0f});
  const Tensor w = Tensor::from_vector({2, 2}, {3.0f, 4.0f, -1.0f, 0.5f});
  const Tensor b = Tensor::from_vector({2}, {0.25f, -2.0f});
  Tensor y = poisoned({1, 2});
  ops::linear_forward(x, w, b, y);
  EXPECT_EQ(y.to_vector(), (std::vector<float>{11.25f, -2.0f}));  // 1*3+2*4+0.25, -1+1-2
}

TEST(Linear, RejectsMismatchedTensors) {
  const Tensor x = random_tensor({4, 8}, 1), w = random_tensor({3, 7}, 2);
  Tensor y = Tensor::empty({4, 3});
  EXPECT_THROW(ops::linear_forward(x, w, Tensor(), y), Error);
  const Tensor w_ok = random_tensor({3, 8}, 2);
  Tensor y_bad = Tensor::empty({3, 4});
  EXPECT_THROW(ops::linear_forward(x, w_ok, Tensor(), y_bad), Error);
  Tensor dw = Tensor::empty({3, 8}), db_bad = Tensor::empty({4});
  EXPECT_THROW(ops::linear_backward(x, w_ok, y, nullptr, dw, &db_bad), Error);
}

TEST(Linear, CpuMatchesReferenceOnAwkwardShapes) {
  std::uint64_t seed = 500;
  for (const LinearCase& c : awkward_linear_cases()) expect_linear_matches_reference(c, Device::cpu(), seed += 10);
}

TEST(Linear, ReferenceBackwardMatchesFiniteDifferences) {
  Tensor x = random_tensor({3, 5}, 1), w = random_tensor({4, 5}, 2), b = random_tensor({4}, 3);
  const Tensor g = random_tensor({3, 4}, 4);
  auto loss = [&] {
    Tensor y = Tensor::empty({3, 4});
    reference::linear_forward(x, w, b, y);
    return weighted_sum(y, g);
  };
  Tensor dx = poisoned({3, 5}), dw = poisoned({4, 5}), db = poisoned({4});
  reference::linear_backward(x, w, g, &dx, dw, &db);
  EXPECT_LE(relative_error(dx, finite_difference_gradient(loss, x)), 1e-3);
  EXPECT_LE(relative_error(dw, finite_difference_gradient(loss, w)), 1e-3);
  EXPECT_LE(relative_error(db, finite_difference_gradient(loss, b)), 1e-3);
}

}  // namespace
}  // namespace gcnn::test
