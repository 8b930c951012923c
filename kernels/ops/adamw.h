// The AdamW parameter update (public API, any device), with the semantics of
// torch.optim.AdamW (amsgrad off): for each parameter tensor at its step t
// (1 for its first update),
//   param *= 1 - lr * weight_decay                      (decoupled weight decay)
//   exp_avg    = beta1 * exp_avg    + (1 - beta1) * grad
//   exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad^2
//   param -= lr / (1 - beta1^t) * exp_avg / (sqrt(exp_avg_sq) / sqrt(1 - beta2^t) + eps)
// The moments start at zero. Several tensors go in one call, so that CUDA
// updates all of them in one launch (up to kAdamWTensorsPerLaunch at a time).
#pragma once

#include <cstdint>
#include <span>

#include "kernels/tensor.h"

namespace gcnn::ops {

// One parameter tensor of an AdamW update and its own settings: lr (with any
// group multiplier applied), weight decay (0 for parameters not decayed) and
// step, the count of updates including this one (>= 1).
struct AdamWTensor {
  Tensor* param = nullptr;
  const Tensor* grad = nullptr;
  Tensor* exp_avg = nullptr;
  Tensor* exp_avg_sq = nullptr;
  float lr = 0;
  float weight_decay = 0;
  std::int64_t step = 1;
};

// In double, as PyTorch keeps them (Python floats): 1 - beta is formed before
// rounding to float (1 - 0.999f would be 1.3e-5 off 0.001).
struct AdamWBetas {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

// All tensors of one call live on one device; param, grad and the two moment
// buffers of an entry have one shape; moments are updated in place.
void adamw_update(std::span<const AdamWTensor> tensors, const AdamWBetas& betas);

// The scalars of one tensor's update, computed once on the host in double (as
// PyTorch does in Python): param = param * decay_factor - step_size * exp_avg /
// (sqrt(exp_avg_sq) / bias_correction2_sqrt + eps).
struct AdamWScalars {
  float decay_factor;            // 1 - lr * weight_decay
  float step_size;               // lr / (1 - beta1^step)
  float bias_correction2_sqrt;   // sqrt(1 - beta2^step)
};
AdamWScalars adamw_scalars(const AdamWTensor& t, const AdamWBetas& betas);

}  // namespace gcnn::ops
