// The squeeze-and-excitation kernels on the CPU: one OpenMP task per (n, c)
// plane, float accumulation over the plane (see se_block_kernels.h).
#include <cmath>
#include <cstdint>

#include "layers/custom/se_block/se_block_kernels.h"

namespace gcnn::se_block::cpu {
namespace {
float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }
}  // namespace

void scale_forward(const Tensor& x, const Tensor& z, Tensor& y) {
  const std::int64_t planes = z.numel(), hw = x.numel() / planes;
  const float* xp = x.data<float>();
  const float* zp = z.data<float>();
  float* yp = y.data<float>();
#pragma omp parallel for schedule(static)
  for (std::int64_t p = 0; p < planes; ++p) {
    const float s = sigmoid(zp[p]);
    for (std::int64_t i = p * hw; i < (p + 1) * hw; ++i) yp[i] = xp[i] * s;
  }
}

void gate_grad(const Tensor& x, const Tensor& z, const Tensor& dy, Tensor& dz) {
  const std::int64_t planes = z.numel(), hw = x.numel() / planes;
  const float* xp = x.data<float>();
  const float* zp = z.data<float>();
  const float* dyp = dy.data<float>();
  float* dzp = dz.data<float>();
#pragma omp parallel for schedule(static)
  for (std::int64_t p = 0; p < planes; ++p) {
    float sum = 0.0f;
    for (std::int64_t i = p * hw; i < (p + 1) * hw; ++i) sum += dyp[i] * xp[i];
    const float s = sigmoid(zp[p]);
    dzp[p] = s * (1.0f - s) * sum;
  }
}

void input_grad(const Tensor& dy, const Tensor& z, const Tensor& dpooled, Tensor& dx) {
  const std::int64_t planes = z.numel(), hw = dy.numel() / planes;
  const float* dyp = dy.data<float>();
  const float* zp = z.data<float>();
  const float* dpp = dpooled.data<float>();
  float* dxp = dx.data<float>();
#pragma omp parallel for schedule(static)
  for (std::int64_t p = 0; p < planes; ++p) {
    const float s = sigmoid(zp[p]), pooled = dpp[p] / static_cast<float>(hw);
    for (std::int64_t i = p * hw; i < (p + 1) * hw; ++i) dxp[i] = dyp[i] * s + pooled;
  }
}

}  // namespace gcnn::se_block::cpu
