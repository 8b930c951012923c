// Regression losses (public API, any device): pred and target are [N, T]; the
// loss is the mean over all N * T elements (PyTorch reduction='mean'), or with
// per-target weights w (a [T] tensor on pred's device) the weighted mean
// sum_{n,t} w_t l(d_nt) / (N sum_t w_t), which equals the plain mean when
// every w_t is 1 (RMSE: the square root of the weighted MSE).
#pragma once

#include <string_view>

#include "kernels/host_device.h"
#include "kernels/tensor.h"

namespace gcnn::ops {

// MSE: mean d^2; RMSE: sqrt(MSE); L1: mean |d|; Huber (torch.nn.HuberLoss):
// mean of 0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta); d = pred - target.
enum class LossKind { MSE, RMSE, L1, Huber };

// "mse", "rmse", "l1" or "huber"; anything else throws, listing the choices.
LossKind parse_loss(std::string_view name);
const char* loss_name(LossKind kind);

// The loss value, returned on the host. huber_delta > 0 (used by Huber only).
// target_weights: undefined (all 1) or [T], finite, >= 0, not all 0.
float loss_forward(LossKind kind, const Tensor& pred, const Tensor& target, float huber_delta = 1.0f,
                   const Tensor& target_weights = {});
// Overwrites dpred with d(loss)/d(pred). At d = 0, L1 gives 0 (sign(0)), and
// RMSE gives 0 where the whole loss is 0 (where PyTorch gives NaN).
void loss_backward(LossKind kind, const Tensor& pred, const Tensor& target, Tensor& dpred,
                   float huber_delta = 1.0f, const Tensor& target_weights = {});

// Per-element terms of MSE, L1 and Huber and their derivatives in d, shared by
// the CPU and CUDA backends (RMSE is sqrt(MSE), applied on the host).
GCNN_HOST_DEVICE inline float loss_element(LossKind kind, float d, float huber_delta) {
  const float a = d < 0.0f ? -d : d;
  switch (kind) {
    case LossKind::L1: return a;
    case LossKind::Huber: return a <= huber_delta ? 0.5f * d * d : huber_delta * (a - 0.5f * huber_delta);
    default: return d * d;
  }
}
GCNN_HOST_DEVICE inline float loss_element_grad(LossKind kind, float d, float huber_delta) {
  const float sign = d > 0.0f ? 1.0f : (d < 0.0f ? -1.0f : 0.0f);
  switch (kind) {
    case LossKind::L1: return sign;
    case LossKind::Huber: return (d <= huber_delta && d >= -huber_delta) ? d : huber_delta * sign;
    default: return 2.0f * d;
  }
}

}  // namespace gcnn::ops
