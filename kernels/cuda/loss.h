// Regression loss sums and gradients on CUDA (custom kernels in loss.cu). Only the MSE, L1 and Huber
// element terms (ops::loss_element); the ops layer derives means and RMSE.
#pragma once

#include "kernels/ops/loss.h"

namespace gcnn::cuda {
// Sum over all elements of w[t] * loss_element(kind, pred - target), in double;
// weights: [T] on the device (the columns of pred) or nullptr for all 1.
double loss_sum(ops::LossKind kind, const Tensor& pred, const Tensor& target, float huber_delta,
                const float* weights);
// dpred = grad_scale * w[t] * loss_element_grad(kind, pred - target).
void loss_backward(ops::LossKind kind, const Tensor& pred, const Tensor& target, Tensor& dpred, float huber_delta,
                   float grad_scale, const float* weights);
// state [2] = {loss, gradient scale} (ops::loss_state_from_sum), computed on the device.
void loss_state(ops::LossKind kind, bool rmse, const Tensor& pred, const Tensor& target, float huber_delta,
                const float* weights, Tensor& state);
// dpred = state[1] * w[t] * loss_element_grad(kind, pred - target), the scale read on the device.
void loss_backward_scaled(ops::LossKind kind, const Tensor& pred, const Tensor& target, Tensor& dpred,
                          float huber_delta, const Tensor& state, const float* weights);
// ops::accumulate_loss on the device.
void accumulate_loss(const Tensor& state, Tensor& running, std::int64_t step);
}  // namespace gcnn::cuda
