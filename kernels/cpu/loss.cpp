// Regression loss terms on the CPU (losses are [N, T] with small N * T: one
// thread, lane_sum for the sum).
#include "kernels/cpu/loss.h"

#include "kernels/cpu/lane_sum.h"

namespace gcnn::cpu {

double loss_sum(ops::LossKind kind, const Tensor& pred, const Tensor& target, float huber_delta) {
  const float *p = pred.data<float>(), *t = target.data<float>();
  return lane_sum(pred.numel(),
                  [=](std::int64_t i) { return ops::loss_element(kind, p[i] - t[i], huber_delta); });
}

void loss_backward(ops::LossKind kind, const Tensor& pred, const Tensor& target, Tensor& dpred, float huber_delta,
                   float grad_scale) {
  const float *p = pred.data<float>(), *t = target.data<float>();
  float* g = dpred.data<float>();
  for (std::int64_t i = 0; i < pred.numel(); ++i)
    g[i] = grad_scale * ops::loss_element_grad(kind, p[i] - t[i], huber_delta);
}

}  // namespace gcnn::cpu
