// Fully connected layer on the CPU: the three products are OpenBLAS sgemm
// calls on row-major matrices; the bias add and the bias gradient are plain
// loops (they touch N * out elements, nothing next to the products).
//
// In bf16 precision the products' operands are first rounded to bf16 (into
// FP32 copies): a product of two bf16 values is exact in FP32, so sgemm then
// computes what a bf16 GEMM with FP32 accumulation computes (up to summation
// order). The layer is a network's head (a few hundred features by a batch),
// far too small for a native bf16 GEMM to matter next to the convolutions.
#include "kernels/cpu/linear.h"

#include <cblas.h>

#include <cstdint>
#include <vector>

#include "kernels/bf16.h"
#include "kernels/error.h"

namespace gcnn::cpu {
namespace {
int blas_int(std::int64_t v) { return static_cast<int>(v); }

void check_precision(Precision precision) {
  GCNN_CHECK(precision != Precision::tf32,
             "linear (cpu): precision tf32 is a CUDA tensor-core mode; the CPU computes fp32 or bf16");
}

// The operand a product reads: t's values, or a copy rounded to bf16.
class GemmOperand {
 public:
  GemmOperand(const Tensor& t, Precision precision) : data_(t.data<float>()) {
    if (precision != Precision::bf16) return;
    rounded_.resize(static_cast<std::size_t>(t.numel()));
    for (std::size_t i = 0; i < rounded_.size(); ++i) rounded_[i] = round_to_bf16(data_[i]);
    data_ = rounded_.data();
  }
  const float* data() const { return data_; }

 private:
  const float* data_;
  std::vector<float> rounded_;
};
}  // namespace

void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, Precision precision) {
  const std::int64_t n = x.dim(0), in = x.dim(1), out = w.dim(0);
  check_precision(precision);
  const GemmOperand X(x, precision), W(w, precision);
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
              X.data(), blas_int(in), W.data(), blas_int(in), beta, Y, blas_int(out));
}

void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor& dw, Tensor* db,
                     Precision precision) {
  const std::int64_t n = x.dim(0), in = x.dim(1), out = w.dim(0);
  check_precision(precision);
  const GemmOperand dy_operand(dy, precision), X(x, precision);
  const float* DY = dy_operand.data();
  // dx[n, in] = dy[n, out] * w[out, in]
  if (dx) {
    const GemmOperand W(w, precision);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blas_int(n), blas_int(in), blas_int(out), 1.0f, DY,
                blas_int(out), W.data(), blas_int(in), 0.0f, dx->data<float>(), blas_int(in));
  }
  // dw[out, in] = dy[n, out]^T * x[n, in]
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blas_int(out), blas_int(in), blas_int(n), 1.0f, DY,
              blas_int(out), X.data(), blas_int(in), 0.0f, dw.data<float>(), blas_int(in));
  if (db) {
    const float* dy_values = dy.data<float>();  // the bias gradient is a plain sum, never rounded
    float* DB = db->data<float>();
    for (std::int64_t o = 0; o < out; ++o) {
      double sum = 0.0;
      for (std::int64_t i = 0; i < n; ++i) sum += dy_values[i * out + o];
      DB[o] = static_cast<float>(sum);
    }
  }
}

}  // namespace gcnn::cpu
