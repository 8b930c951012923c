// Elementwise arithmetic on the CPU: OpenMP-parallel vectorised loops.
#include "kernels/cpu/elementwise.h"

#include <algorithm>
#include <cstdint>

namespace gcnn::cpu {

void add(const Tensor& a, const Tensor& b, Tensor& y) {
  const float *pa = a.data<float>(), *pb = b.data<float>();
  float* out = y.data<float>();
  const std::int64_t n = a.numel();
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (std::int64_t i = 0; i < n; ++i) out[i] = pa[i] + pb[i];
}

void add_relu(const Tensor& a, const Tensor& b, Tensor& y) {
  const float *pa = a.data<float>(), *pb = b.data<float>();
  float* out = y.data<float>();
  const std::int64_t n = a.numel();
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (std::int64_t i = 0; i < n; ++i) out[i] = std::max(pa[i] + pb[i], 0.0f);
}

void accumulate(Tensor& dst, const Tensor& src) {
  float* d = dst.data<float>();
  const float* s = src.data<float>();
  const std::int64_t n = dst.numel();
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (std::int64_t i = 0; i < n; ++i) d[i] += s[i];
}

void scale(const Tensor& x, float alpha, Tensor& y) {
  const float* in = x.data<float>();
  float* out = y.data<float>();
  const std::int64_t n = x.numel();
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (std::int64_t i = 0; i < n; ++i) out[i] = alpha * in[i];
}

}  // namespace gcnn::cpu
