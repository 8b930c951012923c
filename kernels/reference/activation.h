// Reference activation ops: plain loops, for tests only.
#pragma once

#include "kernels/tensor.h"

namespace gcnn::reference {
void relu_forward(const Tensor& x, Tensor& y);
void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx);
}  // namespace gcnn::reference
