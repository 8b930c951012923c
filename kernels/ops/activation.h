// Activation ops (public API, any device).
#pragma once

#include "kernels/tensor.h"

namespace gcnn::ops {

// y = max(x, 0). y may be x (in place).
void relu_forward(const Tensor& x, Tensor& y);
// dx = dy where y > 0, else 0; y is the forward output. dx may be dy.
void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx);

}  // namespace gcnn::ops
