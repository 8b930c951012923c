// Fully connected layer (y = x w^T + b, as torch.nn.Linear), forward and backward.
#pragma once

#include "kernels/precision.h"
#include "kernels/tensor.h"

namespace gcnn::ops {

// x [N, in], w [out, in], bias undefined (none) or [out]; y [N, out] is overwritten.
// precision is the products' arithmetic (kernels/precision.h); all tensors are FP32.
void linear_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y,
                    Precision precision = Precision::fp32);

// Given dy [N, out]: dx = dy w (may be nullptr), dw = dy^T x, db = sum over N of
// dy (nullptr when there is no bias). Overwrites the outputs it is given.
void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor& dw, Tensor* db,
                     Precision precision = Precision::fp32);

}  // namespace gcnn::ops
