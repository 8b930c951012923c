// Activation ops on CUDA (kernels in activation.cu).
#pragma once

#include "kernels/tensor.h"

namespace gcnn::cuda {
void relu_forward(const Tensor& x, Tensor& y);
void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx);
}  // namespace gcnn::cuda
