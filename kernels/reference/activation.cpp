// Reference ReLU: the definition, one element at a time (CPU tensors only).
#include "kernels/reference/activation.h"

#include "kernels/error.h"

namespace gcnn::reference {

void relu_forward(const Tensor& x, Tensor& y) {
  check_same_shape("reference::relu_forward", x, y);
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    float v = x.data<float>()[i];
    y.data<float>()[i] = v > 0.0f ? v : 0.0f;
  }
}

void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  check_same_shape("reference::relu_backward", y, dy);
  check_same_shape("reference::relu_backward", y, dx);
  for (std::int64_t i = 0; i < y.numel(); ++i)
    dx.data<float>()[i] = y.data<float>()[i] > 0.0f ? dy.data<float>()[i] : 0.0f;
}

}  // namespace gcnn::reference
