// Fully connected layer on the CPU: the three products are OpenBLAS sgemm
// calls on row-major matrices; the bias add and the bias gradient are plain
// loops (they touch N * out elements, nothing next to the products).
#include "kernels/cpu/linear.h"

#include <cblas.h>

#include <cstdint>

namespace gcnn::cpu {
namespace {
int blas_int(std::int64_t v) { return static_cast<int>(v); }
}  // namespace

void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  const std::int64_t n = x.dim(0), in = x.dim(1), out = w.dim(0);
  float* Y = y.data<float>();
  float beta = 0.0f;
  if (bias.defined()) {
    const float* B = bias.data<float>();
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t o = 0; o < out; ++o) Y[i * out + o] = B[o];
    beta = 1.0f;
  }
  // y[n, out] = x[n, in] * w[out, in]^T (+ y holding the bias).
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blas_int(n), blas_int(out), blas_int(in), 1.0f,
              x.data<float>(), blas_int(in), w.data<float>(), blas_int(in), beta, Y, blas_int(out));
}

void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor& dw, Tensor* db) {
  const std::int64_t n = x.dim(0), in = x.dim(1), out = w.dim(0);
  const float* DY = dy.data<float>();
  // dx[n, in] = dy[n, out] * w[out, in]
  if (dx)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blas_int(n), blas_int(in), blas_int(out), 1.0f, DY,
                blas_int(out), w.data<float>(), blas_int(in), 0.0f, dx->data<float>(), blas_int(in));
  // dw[out, in] = dy[n, out]^T * x[n, in]
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blas_int(out), blas_int(in), blas_int(n), 1.0f, DY,
              blas_int(out), x.data<float>(), blas_int(in), 0.0f, dw.data<float>(), blas_int(in));
  if (db) {
    float* DB = db->data<float>();
    for (std::int64_t o = 0; o < out; ++o) {
      double sum = 0.0;
      for (std::int64_t i = 0; i < n; ++i) sum += DY[i * out + o];
      DB[o] = static_cast<float>(sum);
    }
  }
}

}  // namespace gcnn::cpu
