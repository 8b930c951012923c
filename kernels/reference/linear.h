// Fully connected layer reference: plain loops with float64 accumulation, for tests only.
#pragma once

#include "kernels/tensor.h"

namespace gcnn::reference {
void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y);
void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor& dw, Tensor* db);
}  // namespace gcnn::reference
