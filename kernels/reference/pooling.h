// Reference pooling: plain loops, for tests only. Same contract as
// kernels/ops/pooling.h (CPU tensors).
#pragma once

#include "kernels/ops/pooling.h"

namespace gcnn::reference {
void maxpool2d_forward(const Tensor& x, Tensor& y, const ops::Pool2dParams& p);
void maxpool2d_backward(const Tensor& x, const Tensor& dy, Tensor& dx, const ops::Pool2dParams& p);
void global_avgpool_forward(const Tensor& x, Tensor& y);
void global_avgpool_backward(const Tensor& dy, Tensor& dx);
void global_maxpool_forward(const Tensor& x, Tensor& y);
void global_maxpool_backward(const Tensor& x, const Tensor& dy, Tensor& dx);
void concat_pool_forward(const Tensor& x, Tensor& y);
void concat_pool_backward(const Tensor& x, const Tensor& dy, Tensor& dx);
}  // namespace gcnn::reference
