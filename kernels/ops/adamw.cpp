// Checks and device dispatch for the AdamW update.
#include "kernels/ops/adamw.h"

#include <cmath>

#include "kernels/cpu/adamw.h"
#include "kernels/cuda/adamw.h"
#include "kernels/dispatch.h"

namespace gcnn::ops {

AdamWScalars adamw_scalars(const AdamWTensor& t, const AdamWBetas& betas) {
  const double lr = t.lr, step = static_cast<double>(t.step);
  return {static_cast<float>(1.0 - lr * t.weight_decay), static_cast<float>(lr / (1.0 - std::pow(betas.beta1, step))),
          static_cast<float>(std::sqrt(1.0 - std::pow(betas.beta2, step)))};
}

void adamw_update(std::span<const AdamWTensor> tensors, const AdamWBetas& betas) {
  if (tensors.empty()) return;
  GCNN_CHECK(betas.beta1 >= 0.0 && betas.beta1 < 1.0 && betas.beta2 >= 0.0 && betas.beta2 < 1.0 &&
                 std::isfinite(betas.eps) && betas.eps > 0.0,
             "adamw_update: betas ({}, {}) must be in [0, 1) and eps {} finite and > 0", betas.beta1, betas.beta2,
             betas.eps);
  const Device device = tensors.front().param->device();
  for (const AdamWTensor& t : tensors) {
    GCNN_CHECK(t.param && t.grad && t.exp_avg && t.exp_avg_sq, "adamw_update: an entry lacks a tensor");
    check_same_shape("adamw_update", *t.param, *t.grad);
    check_same_shape("adamw_update", *t.param, *t.exp_avg);
    check_same_shape("adamw_update", *t.param, *t.exp_avg_sq);
    GCNN_CHECK(std::isfinite(t.lr) && t.lr >= 0.0f && std::isfinite(t.weight_decay) && t.weight_decay >= 0.0f &&
                   t.step >= 1,
               "adamw_update: lr {} and weight_decay {} must be finite and >= 0, step {} >= 1 (param {})", t.lr,
               t.weight_decay, t.step, t.param->describe());
    GCNN_CHECK(common_device("adamw_update", {t.param, t.grad, t.exp_avg, t.exp_avg_sq}) == device,
               "adamw_update: tensors on different devices: {} and {}", tensors.front().param->describe(),
               t.param->describe());
  }
  dispatch("adamw_update", {tensors.front().param}, [&] { cpu::adamw_update(tensors, betas); },
           [&] { cuda::adamw_update(tensors, betas); });
}

}  // namespace gcnn::ops
