// The SGD parameter update (public API, any device): one fused pass over a
// parameter, its gradient and its momentum buffer, with the semantics of
// torch.optim.SGD (dampening 0):
//   d = grad + weight_decay * param
//   buf = momentum * buf + d            (buf starts at zero)
//   d = nesterov ? d + momentum * buf : buf
//   param -= lr * d
#pragma once

#include "kernels/tensor.h"

namespace gcnn::ops {

// param, grad and momentum_buf have the same shape and device; buf is updated
// in place (with momentum = 0 it just holds the last d).
void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, float lr, float momentum,
                float weight_decay, bool nesterov);

}  // namespace gcnn::ops
