// Activation ops on the CPU (OpenMP, vectorised loops).
#pragma once

#include "kernels/tensor.h"

namespace gcnn::cpu {
void relu_forward(const Tensor& x, Tensor& y);
void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx);
}  // namespace gcnn::cpu
