// The fused SGD update on the CPU: one vectorised, OpenMP-parallel pass that
// reads param, grad and buf and writes param and buf.
#include "kernels/cpu/sgd.h"

#include <cstdint>

namespace gcnn::cpu {

void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, float lr, float momentum,
                float weight_decay, bool nesterov) {
  float* w = param.data<float>();
  const float* g = grad.data<float>();
  float* buf = momentum_buf.data<float>();
  const std::int64_t n = param.numel();
  // nesterov: d + momentum * buf; plain: buf. Written as d * d_coef + buf * buf_coef.
  const float d_coef = nesterov ? 1.0f : 0.0f, buf_coef = nesterov ? momentum : 1.0f;
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (std::int64_t i = 0; i < n; ++i) {
    const float d = g[i] + weight_decay * w[i];
    const float b = momentum * buf[i] + d;
    buf[i] = b;
    w[i] -= lr * (d * d_coef + b * buf_coef);
  }
}

}  // namespace gcnn::cpu
