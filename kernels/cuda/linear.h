// Fully connected layer on CUDA (see linear.cu). Shapes are checked, and
// empty batches handled, by kernels/ops/linear.cpp.
#pragma once

#include "kernels/precision.h"
#include "kernels/tensor.h"

namespace gcnn::cuda {
void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, Precision precision);
void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor& dw, Tensor* db,
                     Precision precision);
}  // namespace gcnn::cuda
