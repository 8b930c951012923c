// Checks of the shared test helpers themselves: a helper that cannot detect an
// error would make every op test that uses it unable to fail.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/test_support.h"

namespace gcnn::test {
namespace {

TEST(TestSupport, RandomTensorIsSeededAndInRange) {
  const Tensor a = random_tensor({3, 5}, 7, -2.0f, 3.0f), b = random_tensor({3, 5}, 7, -2.0f, 3.0f);
  const Tensor c = random_tensor({3, 5}, 8, -2.0f, 3.0f);
  EXPECT_EQ(a.to_vector(), b.to_vector());
  EXPECT_NE(a.to_vector(), c.to_vector());
  for (float v : a.to_vector()) {
    EXPECT_GE(v, -2.0f);
    EXPECT_LT(v, 3.0f);
  }
}

TEST(TestSupport, RelativeErrorByHand) {
  const Tensor ref = Tensor::from_vector({2}, {3.0f, 4.0f});
  const Tensor out = Tensor::from_vector({2}, {3.0f, 4.5f});
  EXPECT_NEAR(relative_error(out, ref), 0.5 / 5.0, 1e-12);
  EXPECT_EQ(relative_error(ref, ref), 0.0);
  EXPECT_TRUE(std::isinf(relative_error(poisoned({2}), ref)));
  EXPECT_TRUE(std::isinf(relative_error(Tensor::zeros({3}), ref)));
}

TEST(TestSupport, FiniteDifferencesOfAQuadratic) {
  // loss = sum p_i^2 has gradient 2 p; central differences are exact for it up to rounding.
  Tensor p = Tensor::from_vector({3}, {0.5f, -1.0f, 2.0f});
  const Tensor grad = finite_difference_gradient(
      [&] {
        double s = 0.0;
        for (float v : p.to_vector()) s += static_cast<double>(v) * v;
        return s;
      },
      p);
  const std::vector<float> g = grad.to_vector();
  EXPECT_NEAR(g[0], 1.0f, 1e-4);
  EXPECT_NEAR(g[1], -2.0f, 1e-4);
  EXPECT_NEAR(g[2], 4.0f, 1e-4);
  EXPECT_EQ(p.to_vector(), (std::vector<float>{0.5f, -1.0f, 2.0f}));  // restored
}

}  // namespace
}  // namespace gcnn::test
