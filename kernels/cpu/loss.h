// Regression loss sums and gradients on the CPU (OpenMP). Only the MSE, L1 and Huber
// element terms (ops::loss_element); the ops layer derives means and RMSE.
#pragma once

#include "kernels/ops/loss.h"

namespace gcnn::cpu {
// Sum over all elements of w[t] * loss_element(kind, pred - target), in double;
// weights: [T] (the columns of pred) or nullptr for all 1.
double loss_sum(ops::LossKind kind, const Tensor& pred, const Tensor& target, float huber_delta,
                const float* weights);
// dpred = grad_scale * w[t] * loss_element_grad(kind, pred - target).
void loss_backward(ops::LossKind kind, const Tensor& pred, const Tensor& target, Tensor& dpred, float huber_delta,
                   float grad_scale, const float* weights);
// state [2] = {loss, gradient scale} (ops::loss_state_from_sum); rmse: the square root of the MSE.
void loss_state(ops::LossKind kind, bool rmse, const Tensor& pred, const Tensor& target, float huber_delta,
                const float* weights, Tensor& state);
}  // namespace gcnn::cpu
