// 2-D convolution on the CPU (see conv.cpp). Shapes are checked by kernels/ops/conv.cpp.
#pragma once

#include "kernels/ops/conv.h"

namespace gcnn::cpu {
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, const ops::Conv2dParams& p);
void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor& dw, Tensor* db,
                     const ops::Conv2dParams& p);
}  // namespace gcnn::cpu
