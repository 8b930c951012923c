// The dihedral-invariant pooling's kernels on the CPU (see
// dihedral_pool_kernels.h): gathers over the 8 pixel maps, OpenMP over planes.
#include "layers/custom/dihedral_pool/dihedral_map.h"
#include "layers/custom/dihedral_pool/dihedral_pool_kernels.h"

namespace gcnn::dihedral::cpu {

void expand(const Tensor& x, Tensor& xs) {
  const std::int64_t planes = x.dim(0) * x.dim(1), s = x.dim(2), plane = s * s;
  const float* xp = x.data<float>();
  float* out = xs.data<float>();
#pragma omp parallel for collapse(2) schedule(static)
  for (int t = 0; t < kTransforms; ++t)
    for (std::int64_t p = 0; p < planes; ++p) {
      const float* src = xp + p * plane;
      float* dst = out + (t * planes + p) * plane;
      for (std::int64_t i = 0; i < s; ++i)
        for (std::int64_t j = 0; j < s; ++j) {
          std::int64_t a, b;
          transform_source(t, s, i, j, a, b);
          dst[i * s + j] = src[a * s + b];
        }
    }
}

void fold(const Tensor& dxs, Tensor& dx) {
  const std::int64_t planes = dx.dim(0) * dx.dim(1), s = dx.dim(2), plane = s * s;
  const float* in = dxs.data<float>();
  float* out = dx.data<float>();
#pragma omp parallel for schedule(static)
  for (std::int64_t p = 0; p < planes; ++p)
    for (std::int64_t a = 0; a < s; ++a)
      for (std::int64_t b = 0; b < s; ++b) {
        float sum = 0.0f;
        for (int t = 0; t < kTransforms; ++t) {
          std::int64_t i, j;
          transform_target(t, s, a, b, i, j);
          sum += in[(t * planes + p) * plane + i * s + j];
        }
        out[p * plane + a * s + b] = sum;
      }
}

void mean(const Tensor& h, Tensor& y) {
  const std::int64_t n = y.numel();
  const float* hp = h.data<float>();
  float* yp = y.data<float>();
#pragma omp parallel for schedule(static)
  for (std::int64_t k = 0; k < n; ++k) {
    double sum = 0.0;
    for (int t = 0; t < kTransforms; ++t) sum += hp[t * n + k];
    yp[k] = static_cast<float>(sum / kTransforms);
  }
}

void mean_grad(const Tensor& dy, Tensor& dh) {
  const std::int64_t n = dy.numel();
  const float* dyp = dy.data<float>();
  float* dhp = dh.data<float>();
#pragma omp parallel for schedule(static)
  for (std::int64_t k = 0; k < n; ++k)
    for (int t = 0; t < kTransforms; ++t) dhp[t * n + k] = dyp[k] / kTransforms;
}

}  // namespace gcnn::dihedral::cpu
