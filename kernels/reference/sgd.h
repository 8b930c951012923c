// Reference SGD update, for tests only (CPU tensors); see kernels/ops/sgd.h.
#pragma once

#include "kernels/tensor.h"

namespace gcnn::reference {
void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, float lr, float momentum,
                float weight_decay, bool nesterov);
}  // namespace gcnn::reference
