// Pooling on CUDA (custom kernels in pooling.cu); see kernels/ops/pooling.h for the contract.
#pragma once

#include "kernels/ops/pooling.h"

namespace gcnn::cuda {
void maxpool2d_forward(const Tensor& x, Tensor& y, const ops::Pool2dParams& p);
void maxpool2d_backward(const Tensor& x, const Tensor& dy, Tensor& dx, const ops::Pool2dParams& p);
// Global max and/or average of each plane of x [N, C, H, W] into y: [N, C] when
// one of them is asked for, [N, 2C] (max then average) when both are.
void global_pool_forward(const Tensor& x, Tensor& y, bool with_max, bool with_avg);
// Overwrites dx [N, C, H, W] from dy shaped as y above; x (needed for the max
// route only) may be undefined when with_max is false.
void global_pool_backward(const Tensor& x, const Tensor& dy, Tensor& dx, bool with_max, bool with_avg);
}  // namespace gcnn::cuda
