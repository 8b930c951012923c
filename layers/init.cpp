// Deterministic parameter initialisers.
#include "layers/init.h"

#include <cmath>
#include <numbers>
#include <vector>

#include "layers/layer.h"

namespace gcnn {
namespace {

// Uniform double in (0, 1) from the index-th draw of seed's stream.
double uniform01(std::uint64_t seed, std::uint64_t index) {
  return (static_cast<double>(derive_seed(seed, index) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

}  // namespace

void init_normal(Tensor& t, double std, std::uint64_t seed) {
  std::vector<float> v(static_cast<std::size_t>(t.numel()));
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double u1 = uniform01(seed, 2 * i), u2 = uniform01(seed, 2 * i + 1);
    v[i] = static_cast<float>(std * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2));
  }
  t.copy_from(Tensor::from_vector(t.shape(), v));
}

void init_uniform(Tensor& t, double bound, std::uint64_t seed) {
  std::vector<float> v(static_cast<std::size_t>(t.numel()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(bound * (2.0 * uniform01(seed, i) - 1.0));
  t.copy_from(Tensor::from_vector(t.shape(), v));
}

void init_kaiming_normal(Tensor& t, double fan, std::uint64_t seed) { init_normal(t, std::sqrt(2.0 / fan), seed); }

}  // namespace gcnn
