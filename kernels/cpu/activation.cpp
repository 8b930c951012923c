// ReLU forward and backward on the CPU.
#include "kernels/cpu/activation.h"

#include <cstdint>

namespace gcnn::cpu {

void relu_forward(const Tensor& x, Tensor& y) {
  const float* in = x.data<float>();
  float* out = y.data<float>();
  const std::int64_t n = x.numel();
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (std::int64_t i = 0; i < n; ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  const float* out = y.data<float>();
  const float* g = dy.data<float>();
  float* gx = dx.data<float>();
  const std::int64_t n = y.numel();
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (std::int64_t i = 0; i < n; ++i) {
    const float gi = g[i];  // loaded unconditionally so the loop vectorises without masked loads
    gx[i] = out[i] > 0.0f ? gi : 0.0f;
  }
}

}  // namespace gcnn::cpu
