// Dropout on the CPU: each element's mask from ops::dropout_mask_value, in
// parallel (the hash needs no state, so any split of the work gives the same mask).
#include "kernels/cpu/dropout.h"

#include "kernels/ops/dropout.h"

namespace gcnn::cpu {

void dropout_forward(const Tensor& x, float p, std::uint64_t seed, Tensor& mask, Tensor& y) {
  const float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  const float* in = x.data<float>();
  float *m = mask.data<float>(), *out = y.data<float>();
  const std::int64_t n = x.numel();
#pragma omp parallel for simd schedule(static) if (n > 16384)
  for (std::int64_t i = 0; i < n; ++i) {
    m[i] = ops::dropout_mask_value(seed, static_cast<std::uint64_t>(i), p, keep_scale);
    out[i] = in[i] * m[i];
  }
}

void dropout_backward(const Tensor& dy, const Tensor& mask, Tensor& dx) {
  const float *g = dy.data<float>(), *m = mask.data<float>();
  float* out = dx.data<float>();
  const std::int64_t n = dy.numel();
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (std::int64_t i = 0; i < n; ++i) out[i] = g[i] * m[i];
}

}  // namespace gcnn::cpu
