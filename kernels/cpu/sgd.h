// The fused SGD update on the CPU (OpenMP); see kernels/ops/sgd.h.
#pragma once

#include "kernels/tensor.h"

namespace gcnn::cpu {
void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, float lr, float momentum,
                float weight_decay, bool nesterov);
}  // namespace gcnn::cpu
