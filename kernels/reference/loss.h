// Reference regression losses, for tests only (CPU tensors). Same contract as
// kernels/ops/loss.h, written from the definitions.
#pragma once

#include "kernels/ops/loss.h"

namespace gcnn::reference {
float loss_forward(ops::LossKind kind, const Tensor& pred, const Tensor& target, float huber_delta = 1.0f,
                   const Tensor& target_weights = {});
void loss_backward(ops::LossKind kind, const Tensor& pred, const Tensor& target, Tensor& dpred,
                   float huber_delta = 1.0f, const Tensor& target_weights = {});
}  // namespace gcnn::reference
