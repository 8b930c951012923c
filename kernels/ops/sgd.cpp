// Shape checks and device dispatch for the SGD update, one tensor or many.
#include "kernels/ops/sgd.h"

#include <cmath>

#include "kernels/cpu/sgd.h"
#include "kernels/cuda/sgd.h"
#include "kernels/dispatch.h"

namespace gcnn::ops {

namespace {

void check_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buf, float lr, float momentum,
                  float weight_decay, bool nesterov) {
  check_same_shape("sgd_update", param, grad);
  check_same_shape("sgd_update", param, momentum_buf);
  GCNN_CHECK(std::isfinite(lr) && lr >= 0.0f && momentum >= 0.0f && weight_decay >= 0.0f,
             "sgd_update: lr {}, momentum {} and weight_decay {} must be finite and >= 0 (param {})", lr, momentum,
             weight_decay, param.describe());
  GCNN_CHECK(!nesterov || momentum > 0.0f, "sgd_update: nesterov needs momentum > 0 (param {})", param.describe());
}

}  // namespace

void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, float lr, float momentum,
                float weight_decay, bool nesterov) {
  check_update(param, grad, momentum_buf, lr, momentum, weight_decay, nesterov);
  dispatch("sgd_update", {&param, &grad, &momentum_buf},
           [&] { cpu::sgd_update(param, grad, momentum_buf, lr, momentum, weight_decay, nesterov); },
           [&] { cuda::sgd_update(param, grad, momentum_buf, lr, momentum, weight_decay, nesterov); });
}

void sgd_update(std::span<const SgdTensor> tensors, float momentum, bool nesterov) {
  if (tensors.empty()) return;
  const Device device = tensors.front().param->device();
  for (const SgdTensor& t : tensors) {
    check_update(*t.param, *t.grad, *t.momentum_buf, t.lr, momentum, t.weight_decay, nesterov);
    common_device("sgd_update", {tensors.front().param, t.param, t.grad, t.momentum_buf});
  }
  if (device.is_cpu()) {
    for (const SgdTensor& t : tensors)
      cpu::sgd_update(*t.param, *t.grad, *t.momentum_buf, t.lr, momentum, t.weight_decay, nesterov);
  } else {
    cuda::sgd_update(tensors, momentum, nesterov);
  }
}

}  // namespace gcnn::ops
