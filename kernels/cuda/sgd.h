// The fused SGD update on CUDA, per tensor or multi-tensor (custom kernels in
// sgd.cu); see kernels/ops/sgd.h.
#pragma once

#include <span>

#include "kernels/ops/sgd.h"
#include "kernels/tensor.h"

namespace gcnn::cuda {
void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buf, float lr, float momentum,
                float weight_decay, bool nesterov);
// Every tensor in one launch (kSgdTensorsPerLaunch at a time), bit-identical to one call per tensor.
void sgd_update(std::span<const ops::SgdTensor> tensors, float momentum, bool nesterov);
}  // namespace gcnn::cuda
