// Regression loss terms on the CPU (losses are [N, T] with small N * T: one
// thread, lane_sum for the sum).
#include "kernels/cpu/loss.h"

#include "kernels/cpu/lane_sum.h"

namespace gcnn::cpu {

double loss_sum(ops::LossKind kind, const Tensor& pred, const Tensor& target, float huber_delta,
                const float* weights) {
  const float *p = pred.data<float>(), *t = target.data<float>();
  if (!weights)
    return lane_sum(pred.numel(), [=](std::int64_t i) { return ops::loss_element(kind, p[i] - t[i], huber_delta); });
  const std::int64_t columns = pred.shape()[1];
  return lane_sum(pred.numel(), [=](std::int64_t i) {
    return weights[i % columns] * ops::loss_element(kind, p[i] - t[i], huber_delta);
  });
}

void loss_backward(ops::LossKind kind, const Tensor& pred, const Tensor& target, Tensor& dpred, float huber_delta,
                   float grad_scale, const float* weights) {
  const float *p = pred.data<float>(), *t = target.data<float>();
  float* g = dpred.data<float>();
  const std::int64_t columns = pred.shape()[1];
  for (std::int64_t i = 0; i < pred.numel(); ++i)
    g[i] = grad_scale * (weights ? weights[i % columns] : 1.0f) *
           ops::loss_element_grad(kind, p[i] - t[i], huber_delta);
}

void loss_state(ops::LossKind kind, bool rmse, const Tensor& pred, const Tensor& target, float huber_delta,
                const float* weights, Tensor& state) {
  double weight_sum = static_cast<double>(pred.shape()[1]);
  if (weights) {
    weight_sum = 0.0;
    for (std::int64_t t = 0; t < pred.shape()[1]; ++t) weight_sum += weights[t];
  }
  ops::loss_state_from_sum(loss_sum(kind, pred, target, huber_delta, weights),
                           static_cast<double>(pred.shape()[0]) * weight_sum, rmse, state.data<float>());
}

}  // namespace gcnn::cpu
