// Shared helpers for op tests (see test_support.h).
#include "tests/support/test_support.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/error.h"

namespace gcnn::test {

Tensor random_tensor(const Shape& shape, std::uint64_t seed, float lo, float hi, Device device) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> values(static_cast<std::size_t>(shape_numel(shape)));
  for (float& v : values) v = dist(rng);
  return Tensor::from_vector(shape, values, device);
}

double relative_error(const Tensor& out, const Tensor& ref) {
  if (out.shape() != ref.shape()) return std::numeric_limits<double>::infinity();
  const std::vector<float> o = out.to_vector(), r = ref.to_vector();
  double diff = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < o.size(); ++i) {
    if (!std::isfinite(o[i])) return std::numeric_limits<double>::infinity();
    const double d = static_cast<double>(o[i]) - static_cast<double>(r[i]);
    diff += d * d;
    norm += static_cast<double>(r[i]) * static_cast<double>(r[i]);
  }
  return norm > 0.0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

Tensor poisoned(const Shape& shape, Device device) {
  return Tensor::full(shape, std::numeric_limits<float>::quiet_NaN(), device);
}

double weighted_sum(const Tensor& y, const Tensor& g) {
  GCNN_CHECK(y.shape() == g.shape(), "weighted_sum: shapes differ: {} and {}", y.describe(), g.describe());
  const std::vector<float> a = y.to_vector(), b = g.to_vector();
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return s;
}

Tensor finite_difference_gradient(const std::function<double()>& loss, Tensor& param, double eps) {
  GCNN_CHECK(param.device().is_cpu(), "finite_difference_gradient: param {} must be on the CPU",
             param.describe());
  Tensor grad = Tensor::empty(param.shape());
  float* p = param.data<float>();
  float* g = grad.data<float>();
  for (std::int64_t i = 0; i < param.numel(); ++i) {
    const float saved = p[i];
    p[i] = static_cast<float>(saved + eps);
    const double up = loss();
    p[i] = static_cast<float>(saved - eps);
    const double down = loss();
    p[i] = saved;
    // The perturbation actually applied, after rounding to float.
    const double step = static_cast<double>(static_cast<float>(saved + eps)) -
                        static_cast<double>(static_cast<float>(saved - eps));
    g[i] = static_cast<float>((up - down) / step);
  }
  return grad;
}

}  // namespace gcnn::test
