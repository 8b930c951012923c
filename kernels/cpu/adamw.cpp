// The fused AdamW update on the CPU: per parameter tensor, one vectorised,
// OpenMP-parallel pass that reads param, grad and both moments and writes
// param and moments.
#include "kernels/cpu/adamw.h"

#include <cmath>
#include <cstdint>

namespace gcnn::cpu {

void adamw_update(std::span<const ops::AdamWTensor> tensors, const ops::AdamWBetas& betas) {
  const float beta1 = static_cast<float>(betas.beta1), one_minus_beta1 = static_cast<float>(1.0 - betas.beta1);
  const float beta2 = static_cast<float>(betas.beta2), one_minus_beta2 = static_cast<float>(1.0 - betas.beta2);
  const float eps = static_cast<float>(betas.eps);
  for (const ops::AdamWTensor& t : tensors) {
    const ops::AdamWScalars s = ops::adamw_scalars(t, betas);
    float* w = t.param->data<float>();
    const float* g = t.grad->data<float>();
    float* m = t.exp_avg->data<float>();
    float* v = t.exp_avg_sq->data<float>();
    const std::int64_t n = t.param->numel();
#pragma omp parallel for simd schedule(static) if (n > 32768)
    for (std::int64_t i = 0; i < n; ++i) {
      const float new_m = beta1 * m[i] + one_minus_beta1 * g[i];
      const float new_v = beta2 * v[i] + one_minus_beta2 * g[i] * g[i];
      m[i] = new_m;
      v[i] = new_v;
      w[i] = w[i] * s.decay_factor - s.step_size * new_m / (std::sqrt(new_v) / s.bias_correction2_sqrt + eps);
    }
  }
}

}  // namespace gcnn::cpu
