// Reference elementwise arithmetic: one element at a time (CPU tensors only).
#include "kernels/reference/elementwise.h"

namespace gcnn::reference {

void add(const Tensor& a, const Tensor& b, Tensor& y) {
  for (std::int64_t i = 0; i < a.numel(); ++i) y.data<float>()[i] = a.data<float>()[i] + b.data<float>()[i];
}

void add_relu(const Tensor& a, const Tensor& b, Tensor& y) {
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    const float sum = a.data<float>()[i] + b.data<float>()[i];
    y.data<float>()[i] = sum > 0.0f ? sum : 0.0f;
  }
}

void accumulate(Tensor& dst, const Tensor& src) {
  for (std::int64_t i = 0; i < dst.numel(); ++i) dst.data<float>()[i] += src.data<float>()[i];
}

void scale(const Tensor& x, float alpha, Tensor& y) {
  for (std::int64_t i = 0; i < x.numel(); ++i) y.data<float>()[i] = alpha * x.data<float>()[i];
}

}  // namespace gcnn::reference
