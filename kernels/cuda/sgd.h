// The fused SGD update on CUDA (custom kernels in sgd.cu); see kernels/ops/sgd.h.
#pragma once

#include "kernels/tensor.h"

namespace gcnn::cuda {
void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, float lr, float momentum,
                float weight_decay, bool nesterov);
}  // namespace gcnn::cuda
