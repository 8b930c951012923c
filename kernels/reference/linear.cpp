// Reference fully connected layer: the defining sums as plain loops with
// float64 accumulation, for tests only.
#include "kernels/reference/linear.h"

#include <cstdint>

namespace gcnn::reference {

void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  const std::int64_t n = x.dim(0), in = x.dim(1), out = w.dim(0);
  check_shape("reference::linear_forward", "y", y, {n, out});
  const float* X = x.data<float>();
  const float* W = w.data<float>();
  const float* B = bias.defined() ? bias.data<float>() : nullptr;
  float* Y = y.data<float>();
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t o = 0; o < out; ++o) {
      double sum = B ? B[o] : 0.0;
      for (std::int64_t j = 0; j < in; ++j) sum += static_cast<double>(X[i * in + j]) * W[o * in + j];
      Y[i * out + o] = static_cast<float>(sum);
    }
}

void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor& dw, Tensor* db) {
  const std::int64_t n = x.dim(0), in = x.dim(1), out = w.dim(0);
  check_shape("reference::linear_backward", "dy", dy, {n, out});
  const float* X = x.data<float>();
  const float* W = w.data<float>();
  const float* DY = dy.data<float>();
  if (dx) {
    float* DX = dx->data<float>();
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < in; ++j) {
        double sum = 0.0;
        for (std::int64_t o = 0; o < out; ++o) sum += static_cast<double>(DY[i * out + o]) * W[o * in + j];
        DX[i * in + j] = static_cast<float>(sum);
      }
  }
  float* DW = dw.data<float>();
  for (std::int64_t o = 0; o < out; ++o)
    for (std::int64_t j = 0; j < in; ++j) {
      double sum = 0.0;
      for (std::int64_t i = 0; i < n; ++i) sum += static_cast<double>(DY[i * out + o]) * X[i * in + j];
      DW[o * in + j] = static_cast<float>(sum);
    }
  if (db) {
    float* DB = db->data<float>();
    for (std::int64_t o = 0; o < out; ++o) {
      double sum = 0.0;
      for (std::int64_t i = 0; i < n; ++i) sum += DY[i * out + o];
      DB[o] = static_cast<float>(sum);
    }
  }
}

}  // namespace gcnn::reference
