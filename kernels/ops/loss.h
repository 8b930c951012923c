// Regression losses (public API, any device): pred and target are [N, T]; the
// loss is the mean over all N * T elements (PyTorch reduction='mean'), or with
// per-target weights w (a [T] tensor on pred's device) the weighted mean
// sum_{n,t} w_t l(d_nt) / (N sum_t w_t), which equals the plain mean when
// every w_t is 1 (RMSE: the square root of the weighted MSE).
#pragma once

#include <cmath>
#include <cstdint>
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

// The same loss without a host round trip, for training steps: writes
// state [2] on pred's device = {the value loss_forward returns, the gradient
// scale loss_backward_on_device applies}, RMSE's 1 / (2 N sqrt(MSE)) included,
// so nothing waits for the device. Target weights are checked where they are
// made (the experiment config), not here, which would read them back.
void loss_forward_on_device(LossKind kind, const Tensor& pred, const Tensor& target, Tensor& state,
                            float huber_delta = 1.0f, const Tensor& target_weights = {});
// Overwrites dpred with d(loss)/d(pred) scaled by state[1] (from loss_forward_on_device).
void loss_backward_on_device(LossKind kind, const Tensor& pred, const Tensor& target, const Tensor& state,
                             Tensor& dpred, float huber_delta = 1.0f, const Tensor& target_weights = {});
// Adds state[0] (a step's loss) to running [4] on the same device, kept there
// until someone reads it: {sum (Kahan-compensated), compensation, steps
// added, the first `step` whose loss was not finite or -1}. Start running at
// {0, 0, 0, -1} (train::RunningLoss::reset).
void accumulate_loss(const Tensor& state, Tensor& running, std::int64_t step);
constexpr std::int64_t kRunningLossSize = 4;

// state = {loss, gradient scale} from the sum of element terms and the
// weighted count they average over (shared by the backends' forward).
GCNN_HOST_DEVICE inline void loss_state_from_sum(double sum, double denominator, bool rmse, float* state) {
  const double mean = sum / denominator;
  double value = mean, scale = 1.0 / denominator;
  if (rmse) {
    // d sqrt(m) = dm / (2 sqrt(m)); 0 where the loss is 0 (every d is 0 there).
    value = sqrt(mean);
    scale = value > 0.0 ? scale / (2.0 * value) : 0.0;
  }
  state[0] = static_cast<float>(value);
  state[1] = static_cast<float>(scale);
}
// One step of accumulate_loss (shared by the backends).
GCNN_HOST_DEVICE inline void add_running_loss(float value, float* running, std::int64_t step) {
  const float y = value - running[1];
  const float t = running[0] + y;
  running[1] = (t - running[0]) - y;
  running[0] = t;
  running[2] += 1.0f;
  if (!(value - value == 0.0f) && running[3] < 0.0f) running[3] = static_cast<float>(step);
}

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
