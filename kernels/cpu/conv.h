// 2-D convolution on the CPU (see conv.cpp). Shapes are checked, and empty
// batches handled, by kernels/ops/conv.cpp.
#pragma once

#include <cstddef>

#include "kernels/ops/conv.h"

namespace gcnn::cpu {
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, const ops::Conv2dParams& p);
void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor* dx, Tensor& dw, Tensor* db,
                     const ops::Conv2dParams& p);
// The two halves of conv2d_backward, separately (benchmarks time them apart).
void conv2d_backward_data(const Tensor& w, const Tensor& dy, Tensor& dx, const ops::Conv2dParams& p);
void conv2d_backward_weights(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* db, const ops::Conv2dParams& p);
// Bytes of the arena the convolutions stage reordered operands in: the most any one call has needed.
std::size_t conv2d_staging_bytes();
}  // namespace gcnn::cpu
