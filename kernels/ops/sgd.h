// The SGD parameter update (public API, any device): one fused pass over a
// parameter, its gradient and its momentum buffer, with the semantics of
// torch.optim.SGD (dampening 0):
//   d = grad + weight_decay * param
//   buf = momentum * buf + d            (buf starts at zero)
//   d = nesterov ? d + momentum * buf : buf
//   param -= lr * d
// The multi-tensor form updates every parameter of a model in one call (one
// launch on CUDA), with the same numbers as one call per tensor.
#pragma once

#include <span>

#include "kernels/tensor.h"

namespace gcnn::ops {

// param, grad and momentum_buf have the same shape and device; buf is updated
// in place (with momentum = 0 it just holds the last d).
void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, float lr, float momentum,
                float weight_decay, bool nesterov);

// One parameter tensor of a multi-tensor update with its own lr (any group
// multiplier applied) and weight decay (0 for parameters not decayed).
struct SgdTensor {
  Tensor* param = nullptr;
  const Tensor* grad = nullptr;
  Tensor* momentum_buf = nullptr;
  float lr = 0;
  float weight_decay = 0;
};
// All tensors on one device; each entry as the single-tensor update.
void sgd_update(std::span<const SgdTensor> tensors, float momentum, bool nesterov);

}  // namespace gcnn::ops
